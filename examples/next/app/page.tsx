import { getSession } from "../lib/session";
import { StatePanels } from "./state";

export default async function Home() {
  const session = await getSession();
  const user = session.get("user");
  return (
    <>
      <h1>{user === undefined ? "Sessions, cookies and flashed messages" : `Welcome, ${user}`}</h1>
      <StatePanels />
    </>
  );
}
