import { login } from "../actions";
import { StatePanels } from "../state";

export default function LoginPage() {
  return (
    <>
      <h1>Login</h1>
      <form action={login}>
        <input type="text" name="username" placeholder="Username" autoComplete="username" required />
        <input
          type="password"
          name="password"
          placeholder="Password"
          autoComplete="current-password"
          required
        />
        <input type="submit" value="Login" />
      </form>
      <p className="note">
        The lesson&apos;s demo user is <code>leo</code> with the password <code>1234</code>.
      </p>
      <StatePanels />
    </>
  );
}
