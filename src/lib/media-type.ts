// What a request's Content-Type says about its body: whether the API reads it as JSON, and how.

// media-type = type "/" subtype parameters, parameters = *( OWS ";" OWS [ parameter ] ) (RFC 9110 §8.3.1). Each run of
// whitespace has one place in the pattern (after the media type, after a ';', after a parameter): with two, as in
// `(OWS ";" OWS)* OWS`, a header of a dozen `;` and tabs that fails at its end took seconds to refuse.
/** An HTTP token (RFC 9110 §5.6.2): a media type's names, a method. */
export const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED_STRING = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const MEDIA_TYPE = new RegExp(
  `^[ \\t]*(${TOKEN}/${TOKEN})[ \\t]*(?:;[ \\t]*(?:${TOKEN}=(?:${TOKEN}|${QUOTED_STRING})[ \\t]*)?)*$`,
);
/** A JSON media type: `application/json`, or `application/…+json` (any subtype token before the suffix). */
const JSON_MEDIA_TYPE = new RegExp(`^application/(${TOKEN}\\+)?json$`, "i");
/** The `Content-Type` values @hono/zod-openapi's media-type gate accepts as they are (415 for the rest). */
const VALIDATORS_TAKE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * How a body sent with this `Content-Type` is read as JSON: `as sent` where the routes' validators take the header
 * as it is (well-formed or not: `charset="utf-8` unterminated, or two Content-Type fields joined by a comma), as
 * `application/json` where it is a well-formed JSON media type they would refuse (whitespace before a `;`, an empty
 * parameter, a digit or `_` in a `+json` subtype such as `application/vnd.example.v2+json`), and not at all (null)
 * otherwise: 415.
 */
export function jsonReadingOf(contentType: string): "as sent" | "as application/json" | null {
  if (VALIDATORS_TAKE.test(contentType)) return "as sent";
  const essence = MEDIA_TYPE.exec(contentType)?.[1];
  return essence !== undefined && JSON_MEDIA_TYPE.test(essence) ? "as application/json" : null;
}

/** Whether a body sent with this `Content-Type` is read as JSON, whatever its parameters or `+json` suffix. */
export const isJsonContentType = (contentType: string) => jsonReadingOf(contentType) !== null;
