// The Worker's size is a budget: Cloudflare charges startup time for every byte
// it parses, and the free plan caps scripts at 3 MiB gzipped. Ours must stay at
// or under 238 KiB gzipped; the README states the current figure. It was 200
// until webhooks took about 10 KiB: their nine routes with their schemas and
// descriptions (~4.7 KiB), the outbox SQL in every write (~3.5 KiB), and the
// queue consumer, Web Crypto signing and URL rules (~1.9 KiB); then 215 until the
// consumer's backoff when the database fails and more refused IP ranges (~0.3 KiB); then 216 until
// the fixes of an outside audit (races, time zones, invoices frozen when issued: ~1 KiB); then 217 until
// the document's `webhooks` (one per event type, with its schema, headers and example: ~1.3 KiB) and the
// retries of deadlocked statements (~0.2 KiB) and a PATCH that changes nothing writing nothing (~0.35 KiB:
// its condition and answer in every PATCH, and their OpenAPI rule); then 220 until the second audit's fixes (strict
// UTF-8 bodies and lenient Content-Type parameters, If-None-Match, cursors tagged with their list, the webhook and
// draft-invoice rules with their errors and descriptions: ~1.8 KiB); then 221 until the strict query string, the
// 412 messages that name the failed header, the organization's read-only `limits` and the refusal of a body by an
// operation that takes none, the rate limit per caller (~1 KiB); then 222 until the organization's week_start and the
// summary's (~0.6 KiB); then 223 until the fixes of the audits of December (amounts in each currency's minor unit,
// If-Match on stop and rotate-secret, what an Idempotency-Key request is, the headers of POST errors documented:
// ~0.4 KiB); then 224 until the rule that an inactive project takes no new time (its error, descriptions and
// mappings) and invoice writes run again behind an attach (~0.3 KiB); then 225 until an invoiced project's fixed
// customer, the error examples each operation answers, the validation messages and the lists' name order (~0.7 KiB);
// then 226 until the tz database's spelling of the links the runtime resolves away (~0.9 KiB: 150 names that Intl
// cannot give back) and members' profiles per organization (PATCH of a name and an avatar, its rules and words);
// then 228 until the third round of audits' fixes: each operation's error examples made from its own resource and
// scope, the webhook examples and messages, the malformed Authorization header, host and e-mail rules (~1.1 KiB);
// then 229 until the fourth round's: the sync feed's horizon, drafts repriced with their projects, stop_running retried
// behind a concurrent start, the invoice_id filter, optional parameters unsent by the reference, cursors that carry
// their filters (~1.8 KiB); then 230 until the second review's fixes: the fresh check of the drafts billing a project,
// stop_running's 503, cursor filters compared whatever their case, the printable invoice number (~0.2 KiB); then 231
// until the audits of 7 December: unconditional writes refusing If-Match and saying so, error logs without values, the
// checked DATABASE_URL, the leap second's message, the Idempotency-Key rules on scopes and demotions (~0.5 KiB); then
// 232 until the afternoon's audits: If-Unmodified-Since and a read's If-Match refused and said so in every operation's
// description, canonical instants in cursor filters, the background configuration, invoice numbers in NFC, the
// attach's project check, the 410 of the webhooks and more refused ranges (~1.1 KiB); then 233 until the audits of
// 7 December, evening: cursors that keep the organization's time zone of their first page, CORS origins and the JWKS
// URL checked, the document's paragraph on the paths outside the API (~0.6 KiB); then 234 until the audits of
// 7 December, night: the 405 documented (paragraph, Allow header, MethodNotAllowed response), the request schemas' ISO code
// lists and URL pattern, the refused URL of a webhook kept, the one-timer rule's answers (~1 KiB); then 236 until the
// session of 7 December, late: the sync feed's departures (query, schema, descriptions), the read scopes a webhook's
// events need, a rate's decimals read from the body's text, canonical tokens, the retries' backoff (~1.5 KiB).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, inject, it } from "vitest";

const BUDGET_KIB = 238;

describe("bundle size", () => {
  it(`the minified production bundle is at most ${BUDGET_KIB} KiB gzipped`, () => {
    const script = readFileSync(inject("workerScript"));
    const gzippedKiB = gzipSync(script).length / 1024;
    console.info(`dist/index.js: ${(script.length / 1024).toFixed(1)} KiB, ${gzippedKiB.toFixed(1)} KiB gzipped`);
    // A bundle that lost its dependencies (an empty or externalised build) would pass a bare ceiling.
    expect(gzippedKiB).toBeGreaterThan(50);
    expect(gzippedKiB).toBeLessThanOrEqual(BUDGET_KIB);
  });

  it("is built without a single locale file of zod's beyond English", () => {
    const script = readFileSync(inject("workerScript"), "utf8");
    // German's messages ("Ungültige Eingabe: …") are in the bundle if the shims in build/ stop working.
    expect(script).not.toContain("Eingabe");
    expect(script).toContain("Invalid input");
  });

  it("is built without the Drizzle schema (src/db/schema), which the API's modules never import", () => {
    const script = readFileSync(inject("workerScript"), "utf8");
    // Its column builders (~4 KiB gzipped) come in with the first import of a schema module, a constant as well.
    expect(script).not.toContain("PgTextBuilder");
  });
});
