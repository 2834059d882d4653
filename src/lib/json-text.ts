// JSON that is already text (a page of entries as Postgres wrote it) goes into a response as
// it is: parsing it only to serialize it again would cost the Worker more than the rest of a
// list's work. The types still say what the text holds, so a handler's answer stays typed
// against its route, as `c.json(value)`'s is.
import type { Context, TypedResponse } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

declare const holds: unique symbol;

/**
 * JSON text of a `T`. Postgres' text is taken for a `T` on the statement's word, exactly as `queryOne<T>`
 * takes its rows; the contract tests check every answer against the OpenAPI document.
 */
export type JsonText<T> = string & { readonly [holds]: T };

/** JSON text Postgres wrote for a `T` (json_agg, row_to_json, string_agg of them). */
export const postgresJson = <T>(text: string) => text as JsonText<T>;

/** The JSON text of `value`. */
export const jsonText = <T>(value: T) => JSON.stringify(value) as JsonText<T>;

/** `{"a":…,"b":…}` from the JSON text of each field, in order: nothing is parsed or serialized again. */
export function jsonObjectText<T extends object>(fields: { [K in keyof T]: JsonText<T[K]> }): JsonText<T> {
  const members = Object.entries(fields).map(([key, text]) => `${JSON.stringify(key)}:${text as string}`);
  return `{${members.join(",")}}` as JsonText<T>;
}

const utf8 = new TextEncoder();

/**
 * A JSON answer with `body` as it is, typed as the value it holds, as `c.json(value, status)` would be. The body
 * goes out as UTF-8 bytes encoded here: workerd encodes a string body on a slower path, and once a page holds one
 * character beyond ASCII (a name like Müller, a dash) its whole text is two-byte, which cost a list of 100
 * 0.14–0.24 ms more of the Worker's CPU than `TextEncoder` does (bench/RESULTS.md, "Text beyond ASCII").
 */
export function jsonTextResponse<T, S extends ContentfulStatusCode>(c: Context, body: JsonText<T>, status: S) {
  const response: Response = c.body(utf8.encode(body) as Uint8Array<ArrayBuffer>, status, {
    "Content-Type": "application/json",
  });
  return response as Response & TypedResponse<T, S, "json">;
}

/**
 * `c.json(value, status)` for answers that can hold many items (a page of a list, a bulk edit's entries): the same
 * JSON, sent as UTF-8 bytes like `jsonTextResponse`'s, since names beyond ASCII (a customer "Müller GmbH") make
 * the whole serialized page two-byte text.
 */
export const jsonResponse = <T, S extends ContentfulStatusCode>(c: Context, value: T, status: S) =>
  jsonTextResponse(c, jsonText(value), status);
