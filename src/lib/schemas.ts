import { z } from "@hono/zod-openapi";
import { WEEK_DAYS } from "../db/week-days";
import { linkSpelling } from "./time-zone-links";

// Building blocks shared by every resource's request and response schemas.

/** Any RFC 4122-shaped id: the database accepts ids of every version, including ones operators type by hand. */
export const Id = z.guid({ message: "Must be a UUID" });

export const IdParams = z.object({
  id: Id.openapi({
    param: { name: "id", in: "path" },
    description: "The resource id (UUID).",
    example: "4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42",
  }),
});

const idCountMessage = { message: "Give 1 to 100 ids" };

/** 1 to 100 distinct ids (case does not make an id another), for operations on many rows at once. */
export const IdList = z
  .array(Id)
  .min(1, idCountMessage)
  .max(100, idCountMessage)
  .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, {
    message: "Must not repeat an id",
  });

// The instants and days the API can write back as it takes them: four-digit years of the common era.
const FIRST_INSTANT = Date.parse("0001-01-01T00:00:00.000Z");
const LAST_INSTANT = Date.parse("9999-12-31T23:59:59.999Z");
const inInstantRange = (text: string) => {
  const instant = Date.parse(text);
  return instant >= FIRST_INSTANT && instant <= LAST_INSTANT;
};
const instantRangeMessage = { message: "Must fall from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z in UTC" };

const isoWithOffset = z.iso.datetime({ offset: true });
const SIXTY_SECONDS = /:60(?=(\.\d+)?(Z|[+-]\d\d:\d\d)$)/;
/** A timestamp that is well formed but for its leap second. */
const isLeapSecond = (text: string) =>
  SIXTY_SECONDS.test(text) && isoWithOffset.safeParse(text.replace(SIXTY_SECONDS, ":59")).success;

/**
 * A timestamp as the database will keep it: in UTC, truncated to the millisecond. Checks made before the write
 * (`end_time` after `start_time`, a timer's stop) then see exactly the instants stored; Postgres would round digits
 * beyond the millisecond instead, so two instants 0.4 ms apart could become equal after every check had passed.
 */
export const Timestamp = z
  .preprocess(
    // RFC 3339 (5.6) allows `t` and `z` in lower case; nothing else in a timestamp has a case.
    (value) => (typeof value === "string" ? value.toUpperCase() : value),
    z.iso.datetime({
      offset: true,
      // RFC 3339 allows a leap second, so a timestamp with one is well formed and hears why it is refused.
      error: (issue) =>
        isLeapSecond(String(issue.input))
          ? "Must not be a leap second (:60): time in JavaScript and Postgres has none"
          : "Must be an RFC 3339 timestamp with an offset, e.g. 2026-11-28T09:00:00Z",
      // Not a timestamp: no range to tell of.
      abort: true,
    }),
  )
  .refine(inInstantRange, instantRangeMessage)
  .transform((text) => new Date(Date.parse(text)).toISOString())
  .openapi({
    description:
      "RFC 3339 timestamp with an offset (`Z` or `±hh:mm`; `T` and `Z` may be lower case), from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z in UTC; stored and returned in UTC at millisecond precision (digits beyond the millisecond are dropped, not rounded). A leap second (`:60`, which RFC 3339 allows) is refused: time in JavaScript and Postgres has none.",
    example: "2026-11-28T09:00:00Z",
  });

export const UtcTimestamp = z.iso.datetime({ abort: true }).refine(inInstantRange, instantRangeMessage).openapi({
  description: "UTC timestamp, ISO 8601 with milliseconds.",
  example: "2026-11-28T09:00:00.000Z",
});

export const CalendarDate = z.iso
  .date({ message: "Must be a calendar date, YYYY-MM-DD", abort: true })
  .refine((date) => date >= "0001-01-01", { message: "Must be a calendar date from 0001-01-01 to 9999-12-31" })
  // `format: date` lets year 0000 through, which Postgres has not.
  .openapi({ pattern: "^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}$", example: "2026-11-28" });

const limitMessage = { message: "Must be a whole number from 1 to 100" };

/** Digits only: `1e2`, `0x10` and ` 5 ` are refused rather than read as numbers. */
export const Limit = z
  .preprocess(
    (value) => (typeof value === "string" && /^[0-9]{1,3}$/.test(value) ? Number(value) : value),
    z.number(limitMessage).int(limitMessage).min(1, limitMessage).max(100, limitMessage),
  )
  .default(20)
  .openapi({ description: "Items per page, 1–100.", example: 20 });

/**
 * A name of 200 characters that JSON escapes (`\u0001` each) makes a cursor of about 1,700 characters; the bound
 * leaves room for names an operator wrote longer in SQL.
 */
export const CURSOR_MAX_LENGTH = 4096;

/** A longer one is no cursor this API issued: `INVALID_CURSOR` (decodeCursor), like any other. */
export const Cursor = z.string().openapi({
  maxLength: CURSOR_MAX_LENGTH,
  description: `Opaque cursor from \`meta.next_cursor\` of the previous page (at most ${CURSOR_MAX_LENGTH} characters: a list sorted by name carries the name). Send it with the same filters as that page (\`limit\` may change; other filters are 400 \`INVALID_CURSOR\`). Omit for the first page.`,
  example:
    "WyJ0aW1lLWVudHJpZXMiLCIyMDI2LTExLTI4VDA5OjAwOjAwLjAwMFoiLCI0YTNkN2YzZS0yYTUxLTRmNWUtOWE4Yi01YjdlMmMxZDBmNDIiXQ",
});

export const PageMeta = z
  .object({
    count: z.number().int().openapi({ description: "Number of items in this page.", example: 20 }),
    next_cursor: z.string().nullable().openapi({
      description: "Pass as `cursor` to get the next page; null on the last page.",
      example:
        "WyJ0aW1lLWVudHJpZXMiLCIyMDI2LTExLTI4VDA5OjAwOjAwLjAwMFoiLCI0YTNkN2YzZS0yYTUxLTRmNWUtOWE4Yi01YjdlMmMxZDBmNDIiXQ",
    }),
  })
  .openapi("PageMeta");

/** Fails a strict body that changes nothing, so a PATCH with `{}` is a client bug we report. */
export const atLeastOneField = (body: object) => Object.keys(body).length > 0;

/**
 * Text Postgres stores as it was sent: U+0000 cannot be stored at all, and a lone UTF-16 surrogate (`\ud800` without
 * its pair) has no UTF-8 form, so it would be stored as U+FFFD (two different invoice numbers becoming one). Both are
 * refused with the field's name rather than failing in the database or changing silently.
 */
export function storableText(text: string, ctx: z.RefinementCtx) {
  if (text.includes("\u0000")) ctx.addIssue({ code: "custom", message: "Must not contain the NUL character" });
  if (/\p{Surrogate}/u.test(text)) {
    ctx.addIssue({ code: "custom", message: "Must not contain a lone UTF-16 surrogate (\\ud800–\\udfff)" });
  }
}

/** A required, non-blank name. */
export const Name = z
  .string()
  .max(200, { message: "Must be at most 200 characters" })
  .regex(/\S/, { message: "Must not be blank" })
  .superRefine(storableText);

/** Text of at most `max` characters that Postgres can store. */
export const Text = (max: number) =>
  z
    .string()
    .max(max, { message: `Must be at most ${max} characters` })
    .superRefine(storableText);

/** Optional free text that may be cleared with null. */
export const OptionalText = (max: number) =>
  z
    .string()
    .max(max, { message: `Must be at most ${max} characters` })
    .superRefine(storableText)
    .nullable()
    .optional();

/**
 * An e-mail address as HTML's `type=email` takes it: what `format: email` lets a client's validator send (`=` and `|`
 * in the local part included), where zod's default is stricter.
 */
export const EmailAddress = z
  .email({ pattern: z.regexes.html5Email, message: "Must be an e-mail address" })
  .max(320, { message: "Must be at most 320 characters" });

/** A host name as the URL parser leaves it (punycode): labels and a top-level domain of letters or `xn--` (IDN). */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/i;
/** A label's character as written: a letter, a digit, or any character beyond ASCII but whitespace (an IDN's). */
const LABEL =
  "[^\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f\\s]+(?:-+[^\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f\\s]+)*";
/** A top-level domain: letters, punycode (`xn--…`), or a label written beyond ASCII (an IDN's, as `рф`). */
const TLD = `[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59}|(?=[^.:/?#\\s]*[^\\x00-\\x7f])${LABEL}`;
/** A port number, 0 to 65535. */
const PORT = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
/**
 * `http(s)://` (any case), a host name of two labels or more, an optional port, then a path, query or fragment
 * without whitespace: no credentials (`@` before the path), no IP address. The document's pattern, which the server
 * checks too, so that a client's validator refuses what the server would (but a label over 63 characters, punycode
 * that does not decode). Linear: only the last label is tried twice, as a label and as the top-level domain.
 */
const WEB_URL_PATTERN = `^[Hh][Tt][Tt][Pp][Ss]?://${LABEL}(?:[.]${LABEL})*[.](?:${TLD})(?::0*${PORT})?(?:[/?#]\\S*)?$`;
const webUrlPattern = new RegExp(WEB_URL_PATTERN);
const webUrlMessage = "Must be an http(s) URL with a domain name (not an IP address) and without credentials";

/** An http(s) URL of at most 2000 characters, as a customer's website or a member's avatar. */
export const WebUrl = z
  .string()
  // A URI holds no whitespace (RFC 3986), which the URL check would trim, drop (a tab) or take (a space) unseen.
  .regex(/^\S*$/, { message: "Must be an http(s) URL without spaces (write %20 for one)", abort: true })
  .pipe(z.url({ protocol: /^https?$/, hostname: DOMAIN, message: webUrlMessage }))
  .pipe(z.string().max(2000))
  // Every member reads a customer's website and a member's avatar: a user name or password in it would be shown to all.
  .refine((url) => webUrlPattern.test(url), { message: webUrlMessage, abort: true })
  .superRefine(storableText);

/** How the document describes a `WebUrl`. */
export const webUrlFormat = (example: string) =>
  ({
    // No `format: "uri"`: validators read it as RFC 3986, which refuses an IDN host or a path with `ä`, `{` or `|`
    // that the server takes as browsers do.
    pattern: WEB_URL_PATTERN,
    maxLength: 2000,
    description:
      "An http(s) URL with a domain name (not an IP address), without whitespace or credentials (`user:password@`).",
    example,
  }) as const;

/**
 * `schema` or null, written `anyOf: [schema, {type: null}]` in the document. For objects, rather than `.nullable()`,
 * which writes `type: ["object", "null"]` (into a referenced component itself): some client generators type that
 * `any`, others drop the null.
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

/** An IANA name the runtime knows (`Europe/Berlin`, `UTC`); offsets and POSIX rules are refused. */
// The slash in a class, as in conditional.ts: the document's `pattern` then has no `\/`.
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*([/][A-Za-z0-9_+-]+)*$/;
const isTimeZone = (name: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
};
const timeZoneMessage = { message: "Must be an IANA time zone name, e.g. Europe/Berlin" };

/**
 * Names the runtime's Intl takes for a zone but that Postgres reads first as its fixed-offset abbreviations
 * (`AT TIME ZONE` looks a name up among the abbreviations before the zones), at another offset for part or all of
 * the year. IANA's `CET`, `EET`, `MET` and `WET` observe summer time (`CET` would be +01:00 all summer long, where
 * the zone says +02:00). ICU's legacy three-letter ids are no IANA names at all, and mean other places to Postgres:
 * `IST` is Asia/Kolkata (+05:30) to Intl and Israel's +02:00 to Postgres, `PST` and `CST` lose their summer time,
 * `ACT`, `ART`, `AST`, `BST` and `NST` are other continents. Refused rather than cut days at the wrong hour.
 * (`EST`, `MST`, `HST`, `EAT` and `JST` are the same fixed offset to both; `GMT`, `UTC`, `UCT` and `Zulu` are UTC.)
 */
const ABBREVIATION_NAMES = new Set([
  "cet",
  "eet",
  "met",
  "wet",
  "act",
  "art",
  "ast",
  "bst",
  "cst",
  "ist",
  "nst",
  "pst",
]);
const abbreviationMessage = {
  message:
    "Postgres reads this name as a fixed-offset abbreviation, not as that time zone; use a city, e.g. Europe/Berlin",
};

/**
 * IANA's spelling of a name given in another case (`europe/berlin` is `Europe/Berlin`, `us/pacific` is `US/Pacific`):
 * both the runtime and Postgres take either, but a client's zone library may not. The runtime resolves a zone to its
 * own canonical name; a link (`US/Pacific`, which it resolves to `America/Los_Angeles`) keeps its own name, spelled
 * from the tz database's list.
 */
function ianaSpelling(name: string) {
  const resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  if (resolved.toLowerCase() === name.toLowerCase()) return resolved;
  return linkSpelling(name) ?? name;
}

/** A time zone by its IANA name. Postgres may still refuse one only the runtime knows: see `withTimeZoneErrors`. */
export const TimeZoneName = z
  .string()
  .max(64, timeZoneMessage)
  .regex(TIME_ZONE_NAME, timeZoneMessage)
  .refine(isTimeZone, timeZoneMessage)
  .refine((name) => !ABBREVIATION_NAMES.has(name.toLowerCase()), abbreviationMessage)
  .transform(ianaSpelling);

/** `true` or `false` in a query string. */
export const QueryBoolean = z
  .enum(["true", "false"], { message: "Must be true or false" })
  .transform((value) => value === "true");

/**
 * Money in one currency, as computed in SQL: Σ hours × the project's hourly_rate over billable entries of rated
 * projects, in numeric and rounded to the currency's minor unit once, on the total; a decimal string so no float ever
 * touches it.
 */
export const CurrencyAmount = z
  .object({
    currency: z.string().openapi({ description: "ISO 4217.", example: "EUR" }),
    amount: z.string().openapi({
      description:
        'Σ hours × the project\'s hourly_rate over the billable entries of rated projects in this currency, computed exactly in SQL numeric and rounded once, on the total, to the currency\'s ISO 4217 minor unit (2 decimals for most: `"720.00"` EUR; none for JPY, KRW, CLP and the other zero-decimal currencies: `"333"`; 3 for BHD, IQD, JOD, KWD, LYD, OMR and TND: `"0.175"`); a decimal string so no float ever touches it.',
      example: "720.00",
    }),
  })
  .openapi("CurrencyAmount");

const weekStartMessage = { message: `Must be a day of the week in lower case: ${WEEK_DAYS.join(", ")}` };

/** The day a week starts on (`monday`, as ISO 8601 has it, …, `sunday`). */
export const WeekStart = z.enum(WEEK_DAYS, weekStartMessage);
