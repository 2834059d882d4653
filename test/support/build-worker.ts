// Builds the production bundle once per test run, exactly as `npm run build`
// does (prebuild copies the docs assets, then `wrangler deploy --dry-run
// --minify --outdir dist`). The bundle-size budget and the workerd suites use it.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The built Worker: dist/index.js. */
    workerScript: string;
  }
}

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export default function setup(project: TestProject) {
  try {
    execFileSync("npm", ["run", "-s", "build"], {
      cwd: ROOT,
      stdio: "pipe",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed:\n${stdout?.toString() ?? ""}${stderr?.toString() ?? ""}`);
  }
  project.provide("workerScript", join(ROOT, "dist", "index.js"));
}
