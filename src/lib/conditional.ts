import { z } from "@hono/zod-openapi";

// Conditional requests (RFC 9110 §8.8.3, §13.1.1): every entry, project,
// customer and invoice has a `version` that a database trigger bumps on every
// UPDATE. Its strong entity tag is the version in quotes, `"3"`; PATCH and
// DELETE take `If-Match` and change nothing unless it names the current version.

/** The strong entity tag of a resource at `version`: `"3"`. */
export const entityTag = (version: number) => `"${version}"`;

/**
 * What an `If-Match` field asks for: `*` (any current version) or the versions
 * its strong entity tags name. Weak tags (`W/"3"`) never match under the strong
 * comparison If-Match uses, and a well-formed tag that is no version of ours
 * (`"abc"`, `"03"`) matches nothing, so neither adds a version.
 */
export type EntityTags = "*" | number[];

/**
 * A write's preconditions: the versions `If-Match` names, or, with `If-None-Match` too, those of them that
 * `If-None-Match` does not name (RFC 9110 §13.2.2 evaluates both). `If-None-Match: *` on an existing resource
 * never holds: 412.
 */
export type IfMatch = EntityTags | { match: EntityTags; noneMatch: EntityTags };

/** The header a write's preconditions failed on, as its statement found it; `*` apart, whose 412 reads otherwise. */
export type FailedPrecondition = "If-Match" | "If-None-Match" | "If-None-Match: *";

const OWS = "[ \\t]*";
// entity-tag = [ weak ] opaque-tag; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3). The slash in a class:
// RegExp.source (hence the document's `pattern`) escapes a bare one as `\/`, which breaks some client generators.
// obs-text is any character from U+0080: the runtime decodes a header's bytes as UTF-8, a stray byte as U+FFFD. A
// negated class, so that it takes characters beyond U+FFFF in a validator's unicode mode as in ours.
const ENTITY_TAG = '(?:W[/])?"[^\\x00-\\x20\\x22\\x7f]*"';
// `*`, or a comma-separated list with at least one entity tag; empty list elements are allowed (§5.6.1). Each run of
// whitespace has one place it can match (a comma ends it), so a field that fails costs time in its length, not its
// square (test/security/patterns.test.ts).
const LIST = `(?:,${OWS})*${ENTITY_TAG}(?:${OWS},(?:${OWS},)*${OWS}${ENTITY_TAG})*(?:${OWS},)*`;
const IF_MATCH_PATTERN = `^${OWS}(?:\\*|${LIST})${OWS}$`;
const MAX_VERSION = 2 ** 31 - 1; // versions are Postgres integers

/** The versions a field's tags name; weak tags count only under the weak comparison (If-None-Match). */
function versionsOf(field: string, comparison: "strong" | "weak" = "strong"): EntityTags {
  if (field.trim() === "*") return "*";
  const tags = field.match(new RegExp(ENTITY_TAG, "g")) ?? [];
  return tags
    .filter((tag) => comparison === "weak" || !tag.startsWith("W/"))
    .map((tag) => tag.replace(/^W\//, "").slice(1, -1))
    .filter((opaque) => /^(0|[1-9][0-9]{0,9})$/.test(opaque) && Number(opaque) <= MAX_VERSION)
    .map(Number);
}

const ifMatchMessage = 'Must be * or a comma-separated list of entity tags, e.g. "3"';

const entityTagsField = (comparison: "strong" | "weak") =>
  z
    .string()
    .max(1000, { message: ifMatchMessage, abort: true })
    .regex(new RegExp(IF_MATCH_PATTERN), { message: ifMatchMessage })
    .transform((field) => versionsOf(field, comparison))
    .optional();

/** The `If-Match` and `If-None-Match` request headers of PATCH and DELETE, parsed; a malformed one is a 400. */
export const IfMatchHeaders = z.object({
  "If-Match": entityTagsField("strong").openapi({
    param: { name: "If-Match", in: "header" },
    description:
      'Act only if the resource is still at this version (RFC 9110): its `ETag`, e.g. `"3"`, a comma-separated list of them, or `*` for any version. Otherwise 412 `PRECONDITION_FAILED` and nothing changes. Weak tags (`W/"3"`) never match. A missing or foreign resource is still 404. `If-Unmodified-Since` is not taken: 400 `VALIDATION_ERROR` without `If-Match` (a date cannot tell two changes within a second apart), ignored beside it (RFC 9110 §13.1.4).',
    example: '"3"',
  }),
  "If-None-Match": entityTagsField("weak").openapi({
    param: { name: "If-None-Match", in: "header" },
    description:
      'Act only if the resource is at none of these versions (RFC 9110, weak comparison: `W/"3"` names version 3 too): a comma-separated list of entity tags, or `*`, which no existing resource passes. Otherwise 412 `PRECONDITION_FAILED` and nothing changes. Checked together with `If-Match` when both are sent. A missing or foreign resource is still 404.',
    example: '"3"',
  }),
});

/** The preconditions of a PATCH or DELETE, from its parsed `If-Match` and `If-None-Match`. */
export const preconditionsOf = (headers: {
  "If-Match"?: EntityTags;
  "If-None-Match"?: EntityTags;
}): IfMatch | undefined => {
  const { "If-Match": match, "If-None-Match": noneMatch } = headers;
  return noneMatch === undefined ? match : { match: match ?? "*", noneMatch };
};

const etagDescription =
  "The strong entity tag of the resource's current version: its `version` in double quotes, e.g. `\"3\"`. Send it back in `If-Match` to change the resource only if nobody else has. It covers the resource's own fields: what it embeds from others (a project's or member's name) can change under the same tag.";

const EntityTag = z.string().regex(/^"[1-9][0-9]*"$/);

/** The `ETag` header of a response carrying one resource. */
export const etagHeader = z.object({
  ETag: EntityTag.openapi({ description: etagDescription, example: '"3"' }),
});

/** `ETag` on a response that may carry no resource (`{"data": null}`). */
export const optionalEtagHeader = z.object({
  ETag: EntityTag.optional().openapi({
    description: `${etagDescription} Absent when \`data\` is null.`,
    example: '"3"',
  }),
});

/** The `version` field of every entry, project, customer and invoice. */
export const Version = z.number().int().openapi({
  description:
    'Increases on every change. The `ETag` of a response carrying the resource is this number in quotes, `"3"`.',
  example: 3,
});

/** What every PATCH of one resource says about a change to the values it has. */
export const noChangeRule =
  "Giving only values it already has writes nothing (after the same checks): 200 with the resource as it is, same `version` and `ETag` (and `updated_at` where it has one), no webhook event.";

/** What an operation that takes `If-Match` says about it. */
export const ifMatchRule =
  "With `If-Match` (or `If-None-Match`), acts only on the version it names (or one it does not name): otherwise 412 `PRECONDITION_FAILED` and nothing changes, decided after 404 and the caller's rights (403) and before every other check the database makes (such as a 409, or a 400 on an id the body names).";
