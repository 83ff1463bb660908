import { getSession } from "../../lib/session";
import { setSessionData } from "../actions";
import { StatePanels } from "../state";

/**
 * The lesson's /session_set, where a Server Component cannot do it: the page shows the error a write
 * raises here, and its button runs the Server Action that can.
 */
export default async function SessionSet() {
  const session = await getSession();
  let refusal = "";
  try {
    session.set("name", "Leo");
  } catch (error) {
    refusal = (error as { code?: string }).code ?? String(error);
  }
  return (
    <>
      <h1>Set session data</h1>
      <p className="note">
        A page cannot write the session (<code className="refusal">{refusal}</code>): a Server Component
        cannot set cookies. The button runs a Server Action, which can.
      </p>
      <form action={setSessionData}>
        <button type="submit">Set name and message</button>
      </form>
      <StatePanels />
    </>
  );
}
