import app from "./app";
import type { Bindings } from "./lib/types";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
