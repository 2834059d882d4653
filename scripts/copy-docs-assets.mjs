// Copies the API reference's browser bundle (Scalar's standalone build) into
// the Worker's static assets, so /docs loads it from the Worker, not a CDN.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(join(root, "package.json"));
// The package exports only its entry point (dist/index.js); the browser build sits beside it.
const distDir = dirname(require.resolve("@scalar/api-reference"));
const target = join(root, "public", "docs", "scalar.js");
mkdirSync(dirname(target), { recursive: true });
copyFileSync(join(distDir, "browser", "standalone.js"), target);
