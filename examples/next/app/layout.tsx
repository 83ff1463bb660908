import "../../lesson/static/lesson.css";
import type { ReactNode } from "react";
import { getSession } from "../lib/session";
import { logout } from "./actions";

export const metadata = { title: "Lesson 6 on Next.js" };
// Every page shows the session: rendered per request, never prerendered at build time.
export const dynamic = "force-dynamic";

/** The lesson's frame: nav, flashed messages (delivered once by the proxy), then the page. */
export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await getSession();
  const flashes = session.getFlashedMessages({ withCategories: true });
  const user = session.userId;
  return (
    <html lang="en">
      <body>
        <header className="site">
          <a className="brand" href="/">
            Lesson 6 <span>Sessions, Cookies &amp; Message Flashing on Next.js</span>
          </a>
          <nav aria-label="Lesson routes">
            <div className="group">
              <span className="label">Session</span>
              <a href="/session_set">/session_set</a>
            </div>
            <div className="group">
              <span className="label">Flash</span>
              {user === undefined ? (
                <a href="/login">/login</a>
              ) : (
                <>
                  <span className="who">
                    Logged in as <strong>{user}</strong>
                  </span>
                  <form action={logout} className="inline">
                    <button type="submit">Log out</button>
                  </form>
                </>
              )}
            </div>
          </nav>
        </header>
        <main>
          {flashes.length > 0 && (
            <ul className="flashes">
              {flashes.map(([category, message], index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: messages may repeat; their order is their identity
                <li key={index} className={category}>
                  {message}
                </li>
              ))}
            </ul>
          )}
          {children}
        </main>
      </body>
    </html>
  );
}
