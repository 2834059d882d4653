// The Worker bundle's "zod" (see [alias] in wrangler.toml): zod's own entry
// point, minus the `locales` namespace that would pull every language in.
import * as z from "./zod-classic";

export * from "./zod-classic";
export { z, z as default };
