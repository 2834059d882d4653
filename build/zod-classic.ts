// zod/v4/classic without `locales`, and with a `core` that has none either. A
// local export shadows the one of the same name from `export *`.
export * from "../node_modules/zod/v4/classic/external.js";
export * as core from "./zod-core";
export const locales = {};
