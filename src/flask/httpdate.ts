/**
 * Dates as Flask's `" d"` tag writes and reads them: werkzeug's `http_date` (RFC 1123, GMT,
 * whole seconds) and `parse_date` (Python's lenient `email.utils.parsedate_to_datetime`).
 */

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad = (value: number, width: number): string => String(value).padStart(width, "0");

/** Python's datetime range: years 1 to 9999. */
export function isPythonDate(date: Date): boolean {
  const time = date.getTime();
  if (Number.isNaN(time)) return false;
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/** werkzeug `http_date(datetime)`: `"Tue, 02 Jan 2024 03:04:05 GMT"`; fractions of a second are dropped. */
export function formatHttpDate(date: Date): string {
  return (
    `${DAY_NAMES[date.getUTCDay()]}, ${pad(date.getUTCDate(), 2)} ${MONTH_NAMES[date.getUTCMonth()]} ` +
    `${pad(date.getUTCFullYear(), 4)} ${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:` +
    `${pad(date.getUTCSeconds(), 2)} GMT`
  );
}

// email._parseaddr tables.
const PY_MONTHS = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const PY_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const PY_ZONES: Record<string, number> = {
  UT: 0,
  UTC: 0,
  GMT: 0,
  Z: 0,
  AST: -400,
  ADT: -300,
  EST: -500,
  EDT: -400,
  CST: -600,
  CDT: -500,
  MST: -700,
  MDT: -600,
  PST: -800,
  PDT: -700,
};

// Python's str.split() separators (str.isspace()).
// biome-ignore lint/suspicious/noControlCharactersInRegex: Python counts \x1c-\x1f as whitespace
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Python `int(text)` for ASCII input: optional sign, digits with single underscores. `null` if invalid. */
function pyInt(text: string): number | null {
  const trimmed = text.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, "");
  if (!/^[+-]?\d+(?:_\d+)*$/.test(trimmed)) return null;
  return Number(trimmed.replaceAll("_", ""));
}

function isPyDigit(char: string | undefined): boolean {
  return char !== undefined && char >= "0" && char <= "9";
}

const lastChar = (text: string): string => text.slice(-1);

/** Port of `email._parseaddr._parsedate_tz` (Python 3.11); `null` where it returns `None`. */
function parseDateParts(
  data: string,
): [number, number, number, number, number, number, number | null] | null {
  if (!data) return null;
  let parts = data.split(PY_WHITESPACE).filter((part) => part !== "");
  if (parts.length === 0) return null;
  const first = parts[0]!;
  if (first.endsWith(",") || PY_DAYS.includes(first.toLowerCase())) {
    parts.shift();
  } else {
    const comma = first.lastIndexOf(",");
    if (comma >= 0) parts[0] = first.slice(comma + 1);
  }
  if (parts.length === 3) {
    const stuff = parts[0]!.split("-");
    if (stuff.length === 3) parts = [...stuff, ...parts.slice(1)];
  }
  if (parts.length === 4) {
    const s = parts[3]!;
    let i = s.indexOf("+");
    if (i === -1) i = s.indexOf("-");
    if (i > 0) parts.splice(3, 1, s.slice(0, i), s.slice(i));
    else parts.push("");
  }
  if (parts.length < 5) return null;
  let [dd, mm, yy, tm, tz] = parts.slice(0, 5) as [string, string, string, string, string];
  if (!(dd && mm && yy)) return null;
  mm = mm.toLowerCase();
  if (!PY_MONTHS.includes(mm)) {
    [dd, mm] = [mm, dd.toLowerCase()];
    if (!PY_MONTHS.includes(mm)) return null;
  }
  let month = PY_MONTHS.indexOf(mm) + 1;
  if (month > 12) month -= 12;
  if (lastChar(dd) === ",") dd = dd.slice(0, -1);
  if (yy.indexOf(":") > 0) [yy, tm] = [tm, yy];
  if (lastChar(yy) === ",") {
    yy = yy.slice(0, -1);
    if (!yy) return null;
  }
  if (!isPyDigit(yy[0])) [yy, tz] = [tz, yy];
  if (lastChar(tm) === ",") tm = tm.slice(0, -1);
  let time = tm.split(":");
  let thh: string;
  let tmm: string;
  let tss = "0";
  if (time.length === 2) [thh, tmm] = time as [string, string];
  else if (time.length === 3) [thh, tmm, tss] = time as [string, string, string];
  else if (time.length === 1 && time[0]!.includes(".")) {
    time = time[0]!.split(".");
    if (time.length === 2) [thh, tmm] = time as [string, string];
    else if (time.length === 3) [thh, tmm, tss] = time as [string, string, string];
    else return null;
  } else return null;
  const numbers = [yy, dd, thh, tmm, tss].map(pyInt);
  if (numbers.some((n) => n === null)) return null;
  let [year, day, hour, minute, second] = numbers as [number, number, number, number, number];
  // RFC 822 two-digit years, POSIX rule: 69–99 → 1969–1999, 0–68 → 2000–2068 (applies to any year < 100).
  if (year < 100) year += year > 68 ? 1900 : 2000;
  let offset: number | null = null;
  tz = tz.toUpperCase();
  if (Object.hasOwn(PY_ZONES, tz)) offset = PY_ZONES[tz]!;
  else {
    offset = pyInt(tz);
    if (offset === 0 && tz.startsWith("-")) offset = null;
  }
  if (offset) {
    const sign = offset < 0 ? -1 : 1;
    const abs = Math.abs(offset);
    offset = sign * (Math.floor(abs / 100) * 3600 + (abs % 100) * 60);
  }
  return [year, month, day, hour, minute, second, offset];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * werkzeug `parse_date`: the instant, or `null` where it returns `None` (unparseable text or a
 * date Python's `datetime` rejects). A date without a zone is UTC.
 */
export function parseHttpDate(text: string): Date | null {
  const parts = parseDateParts(text);
  if (parts === null) return null;
  const [year, month, day, hour, minute, second, offset] = parts;
  const valid =
    year >= 1 &&
    year <= 9999 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59 &&
    (offset === null || Math.abs(offset) < 86_400);
  if (!valid) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return new Date(date.getTime() - (offset ?? 0) * 1000);
}
