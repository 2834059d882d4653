// Standard Webhooks signatures (https://www.standardwebhooks.com), with Web Crypto so that the Worker needs no
// library: `webhook-signature` is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry per secret in use.

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newSigningSecret() {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

async function sign(secret: string, content: Uint8Array) {
  const key = await crypto.subtle.importKey(
    "raw",
    fromBase64(secret.slice(SECRET_PREFIX.length)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)))}`;
}

/**
 * The `webhook-signature` header for a message: a signature with each of `secrets` (the current one, and during a
 * rotation the previous one too), space separated, so a receiver holding either secret verifies it.
 */
export async function signatureHeader(secrets: string[], id: string, timestamp: number, body: string) {
  const content = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  return (await Promise.all(secrets.map((secret) => sign(secret, content)))).join(" ");
}
