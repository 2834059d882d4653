// Spectral's OpenAPI rules and the OWASP API Security Top 10 (2023) ruleset,
// run on the generated /openapi.json by `npm run spec:lint` (part of `npm test`).
// Every change to the OWASP rules below says why; all others apply as published.
import owasp from "@stoplight/spectral-owasp-ruleset";
import { oas } from "@stoplight/spectral-rulesets";

// The OWASP size rules (API4: unrestricted resource consumption) are about what
// a client can send. They stay errors for every request parameter and body, but
// do not look at response schemas: the API writes those from input that already
// passed the limits, and a maxLength on a response field protects nothing.
const inRequests = (type) => [
  `$.paths[*][*].parameters[?(@.schema && @.schema.type=="${type}")].schema`,
  `$.paths[*][*].parameters[*].schema..[?(@ && @.type=="${type}")]`,
  `$.paths[*][*].requestBody.content[*].schema..[?(@ && @.type=="${type}")]`,
];
const onRequests = (name, type, assertion = owasp.rules[name].then) => ({
  ...owasp.rules[name],
  given: inRequests(type),
  // biome-ignore lint/suspicious/noThenProperty: `then` is what a Spectral rule calls its assertion.
  then: assertion,
});

// A string whose format is a UUID, a calendar date or an RFC 3339 timestamp is
// bounded by that format (the API validates it before anything else), so it
// counts as limited like one with maxLength.
const boundedFormats = ["uuid", "date", "date-time"];
const stringLimit = {
  function: owasp.rules["owasp:api4:2023-string-limit"].then.function,
  functionOptions: {
    schema: {
      type: "object",
      anyOf: [
        { required: ["maxLength"] },
        { required: ["enum"] },
        { required: ["const"] },
        { required: ["format"], properties: { format: { enum: boundedFormats } } },
      ],
    },
  },
};

// An integer with both a minimum and a maximum is bounded, whatever its
// `format`: the integer rules accept either.
const integerFormat = {
  function: stringLimit.function,
  functionOptions: {
    schema: { type: "object", anyOf: [{ required: ["format"] }, { required: ["minimum", "maximum"] }] },
  },
};

// The Workers Rate Limiting binding answers only "allowed or not", never the
// quota left, so responses cannot carry `RateLimit` (remaining requests) except
// on a 429. Every /v1 response carries `RateLimit-Policy` from the same IETF
// draft instead, which this rule now accepts; 429s keep Retry-After (checked by
// owasp:api4:2023-rate-limit-retry-after).
const rateLimitRule = owasp.rules["owasp:api4:2023-rate-limit"];
const rateLimitHeaders = {
  ...rateLimitRule,
  // biome-ignore lint/suspicious/noThenProperty: `then` is what a Spectral rule calls its assertion.
  then: {
    ...rateLimitRule.then,
    functionOptions: {
      schema: {
        type: "object",
        anyOf: [...rateLimitRule.then.functionOptions.schema.oneOf, { required: ["RateLimit-Policy"] }],
      },
    },
  },
};

export default {
  extends: [oas, owasp],
  rules: {
    "owasp:api4:2023-rate-limit": rateLimitHeaders,
    "owasp:api4:2023-string-limit": onRequests("owasp:api4:2023-string-limit", "string", stringLimit),
    "owasp:api4:2023-string-restricted": onRequests("owasp:api4:2023-string-restricted", "string"),
    "owasp:api4:2023-integer-limit": onRequests("owasp:api4:2023-integer-limit", "integer"),
    "owasp:api4:2023-integer-limit-legacy": onRequests("owasp:api4:2023-integer-limit-legacy", "integer"),
    "owasp:api4:2023-integer-format": onRequests("owasp:api4:2023-integer-format", "integer", integerFormat),
    "owasp:api4:2023-array-limit": onRequests("owasp:api4:2023-array-limit", "array"),
  },
};
