/**
 * The session lifecycle of the lesson apps (Express and Hono share it): the device a login is
 * recorded with, the "Your sessions" panel, "Log out everywhere else", and the notice shown once
 * when a request arrives with a session that ended.
 */
import { ConfigError, type Session, type Sessions } from "flagon";

// flagon's index exports neither type by name yet: derived from the API that returns them.
type SessionStatus = Session["status"];
type UserSession = Awaited<ReturnType<Sessions["listUser"]>>[number];

/** "Remember me for 30 days" on the login form: the session's own lifetime, in seconds. */
export const REMEMBER_ME_SECONDS = 30 * 86400;

/** The longest device description kept with a session. */
const MAX_DEVICE_LENGTH = 60;

/** Browsers, most specific first: Edge, Opera and Samsung Internet also say "Chrome", Chrome says "Safari". */
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\b(?:OPR|Opera)\//, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\b(?:Firefox|FxiOS)\//, "Firefox"],
  [/\bHeadlessChrome\//, "Headless Chrome"],
  [/\bChromium\//, "Chromium"],
  [/\b(?:Chrome|CriOS)\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/^curl\//, "curl"],
];

/** Operating systems, most specific first: Android says "Linux", iOS says "like Mac OS X". */
const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bWindows\b/, "Windows"],
  [/\bAndroid\b/, "Android"],
  [/\biPad\b/, "iPadOS"],
  [/\b(?:iPhone|iPod)\b/, "iOS"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b|\bX11\b/, "Linux"],
];

/**
 * A short description of the browser a `User-Agent` names, for the "Your sessions" panel:
 * "Chrome on Linux", "Safari on iOS", "curl". At most 60 characters, printable ASCII only.
 */
export function describeDevice(userAgent: string | undefined): string {
  const agent = (userAgent ?? "").replace(/[^\x20-\x7e]/g, "").trim();
  if (agent === "") return "Unknown browser";
  const browser =
    BROWSERS.find(([pattern]) => pattern.test(agent))?.[1] ??
    // Anything else (a script, a bot): its first product name, e.g. "node" or "python-requests".
    /^[\w.-]+/.exec(agent)?.[0] ??
    "Unknown browser";
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1];
  const device = system === undefined ? browser : `${browser} on ${system}`;
  return device.length <= MAX_DEVICE_LENGTH ? device : `${device.slice(0, MAX_DEVICE_LENGTH - 1)}…`;
}

/** What `session.login(user, meta)` records: the device, and when (listUser's createdAt is the session's start). */
export function loginMeta(userAgent: string | undefined, now = Date.now()): Record<string, string> {
  return { device: describeDevice(userAgent), signedInAt: String(now) };
}

/** The notice for a request whose session cookie led to a session that ended, once (the cookie is then replaced). */
export function sessionNotice(status: SessionStatus): string | undefined {
  switch (status) {
    case "expired":
    case "idle":
    case "absolute":
      return "Your session expired. Please log in again.";
    case "revoked":
      return "You were logged out from another browser.";
    case "unavailable":
      // onStoreUnavailable "degrade": the page is served without the session; writing to it answers 503.
      return "The session store is unavailable: pages load without your session until it is back; logging in and changes to the session are refused meanwhile.";
    default:
      return undefined;
  }
}

/** What the core lends the panel (the same for the Express and the Hono app's data types). */
export interface Lifecycle {
  listUser(userId: string): Promise<UserSession[]>;
  revokeUser(userId: string, options?: { except?: string }): Promise<number>;
}

/** The part of a session the panel reads. */
export interface PanelSession {
  readonly userId: string | undefined;
  readonly ref: string;
}

/** The user's sessions as the store listed them, or the reason there is no list. */
export type Listing = { sessions: UserSession[] } | { unsupported: string };

/** True for the ConfigError a store that keeps no list of sessions answers (cookie stores). */
function notSupported(error: unknown): error is ConfigError {
  return error instanceof ConfigError && error.code === "ERR_NOT_SUPPORTED";
}

/**
 * Lists the sessions of the user `session` is logged in as (undefined when it is not). A store that
 * keeps no list (cookie stores) says so; a store that fails throws its SessionStoreError (the 503 page).
 */
export async function listYourSessions(
  core: Lifecycle,
  session: PanelSession,
  clientSide: boolean,
): Promise<Listing | undefined> {
  const userId = session.userId;
  if (userId === undefined) return undefined;
  if (clientSide) {
    return {
      unsupported: "Your session lives in this browser's cookie: a cookie store keeps no list of sessions.",
    };
  }
  try {
    return { sessions: await core.listUser(userId) };
  } catch (error) {
    if (notSupported(error)) return { unsupported: "This session store keeps no list of sessions." };
    throw error;
  }
}

/** A moment as the panel shows it: relative text, and the exact time for `<time>`. */
export interface ShownTime {
  iso: string;
  /** "2026-05-01 09:30 UTC", for the tooltip. */
  utc: string;
  /** "just now", "5 minutes ago", "3 days ago". */
  text: string;
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? "" : "s"} ago`;
}

export function shownTime(at: number, now: number): ShownTime {
  const date = new Date(at);
  const iso = date.toISOString();
  const seconds = Math.max(0, Math.floor((now - at) / 1000));
  let text: string;
  if (seconds < 60) text = "just now";
  else if (seconds < 3600) text = plural(Math.floor(seconds / 60), "minute");
  else if (seconds < 86400) text = plural(Math.floor(seconds / 3600), "hour");
  else text = plural(Math.floor(seconds / 86400), "day");
  return { iso, utc: `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`, text };
}

export interface PanelEntry {
  device: string;
  signedIn: ShownTime;
  lastSeen: ShownTime;
  /** The session of the browser that asked for this page. */
  current: boolean;
}

/** What the "Your sessions" panel shows (templates/sessions.html). */
export type Panel =
  | { listed: true; user: string; sessions: PanelEntry[]; others: number }
  | { listed: false; user: string; reason: string };

/**
 * The panel for `session`, read when the page renders (after this request's login, if any).
 * A session that logged in during this request is not stored yet: it is shown from `device`.
 * `replaced` is the ref of the session a login in this request replaced (its record goes with the commit).
 */
export function yourSessionsPanel(
  listing: Listing | undefined,
  session: PanelSession,
  options: { userAgent: string | undefined; replaced?: string | undefined; now?: number },
): Panel | undefined {
  const user = session.userId;
  if (listing === undefined || user === undefined) return undefined;
  if ("unsupported" in listing) return { listed: false, user, reason: listing.unsupported };
  const now = options.now ?? Date.now();
  const ref = session.ref;
  const listed = listing.sessions.filter((entry) => entry.ref !== options.replaced);
  const sessions: PanelEntry[] = listed.map((entry) => {
    const recorded = Number(entry.meta.signedInAt);
    const signedInAt = Number.isFinite(recorded) ? recorded : entry.createdAt;
    return {
      device: entry.meta.device ?? "Unknown browser",
      signedIn: shownTime(signedInAt, now),
      // The login request started (its lastSeenAt) a moment before the password check ended.
      lastSeen: shownTime(Math.max(entry.lastSeenAt, signedInAt), now),
      current: entry.ref === ref,
    };
  });
  if (!sessions.some((entry) => entry.current)) {
    sessions.push({
      device: describeDevice(options.userAgent),
      signedIn: shownTime(now, now),
      lastSeen: shownTime(now, now),
      current: true,
    });
  }
  return { listed: true, user, sessions, others: sessions.length - 1 };
}

/**
 * "Log out everywhere else": ends every session of the user but this one; the flashed message says
 * how many ended.
 */
export async function logOutEverywhereElse(core: Lifecycle, session: PanelSession): Promise<string> {
  const userId = session.userId;
  if (userId === undefined) return "You are not logged in.";
  let ended: number;
  try {
    ended = await core.revokeUser(userId, { except: session.ref });
  } catch (error) {
    if (notSupported(error)) return "This session store keeps no list of sessions to end.";
    throw error;
  }
  if (ended === 0) return "There was no other session to end.";
  return ended === 1
    ? "Logged out everywhere else: 1 other session ended."
    : `Logged out everywhere else: ${ended} other sessions ended.`;
}
