import { cookies } from "next/headers";
import { flagon, getSession } from "../lib/session";

/** The lesson's two panels: what the browser sent, and what the server holds for it. */
export async function StatePanels() {
  const session = await getSession();
  const { sessions, description } = await flagon();
  const jar = await cookies();
  const sessionCookie = jar.getAll().find((cookie) => /^(__Host-)?sid$/.test(cookie.name));
  const held = Object.entries(session.toJSON());
  return (
    <section className="state" aria-label="Where the data lives">
      <div className="card browser">
        <h2>Your browser holds</h2>
        {jar.getAll().length === 0 ? (
          <p className="empty">No cookies.</p>
        ) : (
          <table>
            <tbody>
              {jar.getAll().map((cookie) => (
                <tr
                  key={cookie.name}
                  className={cookie === sessionCookie ? "session-cookie" : "plain-cookie"}
                >
                  <td>
                    <code>{cookie.name}</code>
                  </td>
                  <td>
                    <code>{cookie === sessionCookie ? `${cookie.value.slice(0, 12)}…` : cookie.value}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="card server">
        <h2>The server holds</h2>
        <p className="hint">This session&apos;s data, kept {description}.</p>
        {held.length === 0 ? (
          <p className="empty">Nothing.</p>
        ) : (
          <table>
            <tbody>
              {held.map(([key, value]) => (
                <tr key={key} data-key={key}>
                  <td>
                    <code>{key}</code>
                  </td>
                  <td>
                    <code>{JSON.stringify(value)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="hint" data-status={session.status}>
          Session status: {session.status} · cookie {sessions.sessions.cookieName(false)}
        </p>
      </div>
    </section>
  );
}
