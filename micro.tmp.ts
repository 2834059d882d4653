import { readFileSync } from "node:fs";
import worker from "/work/main/src/index";
const canned = readFileSync("/tmp/exp/getresp.json", "utf8");
const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: any, init: any) => {
  const url = typeof input === "string" ? input : input.url;
  if (url.includes("/sql")) return new Response(canned, { headers: { "content-type": "application/json" } });
  return realFetch(input, init);
}) as typeof fetch;
const token = readFileSync("/tmp/exp/token", "utf8").trim();
const env = { DATABASE_URL: "postgresql://local:local@localhost/local", SQL_HTTP_ENDPOINT: "http://127.0.0.1:1/sql", SESSION_JWT_SECRET: readFileSync("/work/main/.data/session-secret","utf8").trim(), OAUTH_ISSUER: "", OAUTH_AUDIENCE: "", OAUTH_JWKS_URL: "", CORS_ALLOWED_ORIGINS: "" };
const ctx = { waitUntil() {}, passThroughOnException() {} } as any;
const url = process.argv[2] ?? "http://x/v1/time-entries/2fb7b5e6-4dcd-4417-9d20-fa621fd312dc";
async function one() {
  const res = await worker.fetch(new Request(url, { headers: { authorization: `Bearer ${token}` } }), env as any, ctx);
  await res.text();
  return res.status;
}
for (let i = 0; i < 2000; i++) await one();
const n = 30000; const t = performance.now();
let s; for (let i = 0; i < n; i++) s = await one();
console.log(url, s, ((performance.now() - t) / n * 1000).toFixed(0), "µs/request");
