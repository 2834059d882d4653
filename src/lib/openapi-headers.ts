// The headers the app shell adds to responses, and the 405 it answers for any path, documented once in /openapi.json.
import { errorResponses } from "./error-responses";

export const responseHeaders = {
  "X-Request-Id": {
    description: "Identifies the request in our logs; echoes a well-formed `X-Request-Id` sent by the client.",
    schema: { type: "string", maxLength: 255, example: "9b2f0a8e-4c1d-4e7a-8f3b-2d6c5e1a0b9f" },
  },
  "WWW-Authenticate": {
    description:
      'RFC 6750 challenge: `error="invalid_token"` on 401, `error="insufficient_scope"` with the needed `scope` on 403.',
    schema: {
      type: "string",
      maxLength: 500,
      example: 'Bearer realm="time-entries-api", error="invalid_token", error_description="The token has expired"',
    },
  },
  "Retry-After": {
    description:
      "Seconds to wait before retrying: on a 429, a 503, and a 409 `IDEMPOTENCY_KEY_IN_USE` (the first request with the key is still running).",
    schema: { type: "integer", format: "int32", minimum: 0, maximum: 3600, example: 2 },
  },
  "RateLimit-Policy": {
    description:
      'The caller\'s rate limit (IETF RateLimit header fields draft): `q` requests per `w` seconds, e.g. `"per-caller";q=600;w=60`, counted per user and organization, and per OAuth client of that user. Sent on every `/v1` response made after authentication (not on a 401, 405, 413, preflight, or 503 while the OAuth key set cannot be fetched, which come before it) by a deployment with rate limiting.',
    schema: { type: "string", maxLength: 100, example: '"per-caller";q=600;w=60' },
  },
  RateLimit: {
    description:
      'What is left of the caller\'s quota (IETF RateLimit header fields draft) on a 429: `r=0` requests, for `t` seconds, e.g. `"per-caller";r=0;t=60`.',
    schema: { type: "string", maxLength: 100, example: '"per-caller";r=0;t=60' },
  },
  "Accept-Encoding": {
    description: "`identity` on a 415 for a body sent under a `Content-Encoding`: bodies are taken uncompressed only.",
    schema: { type: "string", maxLength: 100, example: "identity" },
  },
  Allow: {
    description: "The methods the path takes, `OPTIONS` included: on a 405 and on an `OPTIONS` answer.",
    schema: { type: "string", maxLength: 100, example: "GET, HEAD, PATCH, DELETE, OPTIONS" },
  },
  "Access-Control-Allow-Origin": {
    description:
      "CORS: the request's `Origin`, when it is one of the deployment's allowed origins (`CORS_ALLOWED_ORIGINS`); absent otherwise.",
    schema: { type: "string", maxLength: 200, example: "https://app.example.com" },
  },
} as const;

/** The 405 of a method a path does not take: no operation of the document, so a reusable response of its own. */
export function methodNotAllowed() {
  const [response] = Object.values(errorResponses("METHOD_NOT_ALLOWED"));
  if (!response) throw new Error("METHOD_NOT_ALLOWED has no documented response");
  const { description, content } = response;
  return {
    description,
    headers: {
      Allow: { $ref: "#/components/headers/Allow" },
      "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" },
      "Access-Control-Allow-Origin": { $ref: "#/components/headers/Access-Control-Allow-Origin" },
    },
    content: {
      "application/json": {
        schema: { $ref: "#/components/schemas/Error" },
        examples: content["application/json"].examples,
      },
    },
  };
}
