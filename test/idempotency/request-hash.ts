// The hash a claim is stored under (src/middleware/idempotency.ts): method, path and body, for tests that
// write a key's row themselves (a claim in flight, one abandoned, an answer stored by an earlier version).
export async function requestHash(method: string, path: string, body: unknown) {
  const text = `${method} ${path}\n${JSON.stringify(body)}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
