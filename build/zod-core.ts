// zod/v4/core without the `locales` namespace (see build/zod.ts).
export * from "../node_modules/zod/v4/core/index.js";
export const locales = {};
