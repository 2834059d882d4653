// Copies the API reference's browser bundle (Scalar's standalone build) into
// the Worker's static assets, so /docs loads it from the Worker, not a CDN.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(join(root, "package.json"));
// The package exports only its entry point (dist/index.js); the browser build sits beside it.
const distDir = dirname(require.resolve("@scalar/api-reference"));
const target = join(root, "public", "docs", "scalar.js");
const source = join(distDir, "browser", "standalone.js");
// Only when it differs: public/ is the Worker's assets, and a rewrite reloads a `wrangler dev` already running (as a
// second `npm start`, refused for the port in use, would do on its way).
if (!existsSync(target) || !readFileSync(target).equals(readFileSync(source))) {
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
}
