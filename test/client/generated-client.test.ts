// The generated client types cannot drift from the API: they are generated
// afresh from the live /openapi.json, must equal src/client/api-types.ts, and
// must compile (tsc, strict) with the typed usage in typed-usage.ts and the README's example.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLIENT_TYPES, generateClientTypes, liveDocument } from "../../scripts/gen-client";
import { ROOT } from "../support/build-worker";

// Inside the repository, so that `openapi-fetch` resolves from node_modules.
const dir = join(ROOT, ".scratch", `client-check-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("generated client types", () => {
  let fresh = "";

  it("are up to date with /openapi.json (run `npm run gen:client` when this fails)", async () => {
    fresh = await generateClientTypes(await liveDocument());
    expect(fresh).toContain("export interface paths");
    expect(readFileSync(CLIENT_TYPES, "utf8")).toBe(fresh);
  });

  it("compile with a typed openapi-fetch usage and the README's example, and refuse wrong calls", () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "api-types.ts"), fresh);
    const usage = readFileSync(join(ROOT, "test", "client", "typed-usage.ts"), "utf8");
    writeFileSync(join(dir, "typed-usage.ts"), usage.replace("../../src/client/api-types", "./api-types"));
    // The README's example, as a reader would paste it beside the generated types.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const example = /## Clients[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(example).toContain("createClient<paths>");
    writeFileSync(
      join(dir, "readme-usage.ts"),
      `declare const token: string;\n${example.replace("./src/client/api-types", "./api-types")}`,
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "Bundler",
          lib: ["ES2023", "DOM"],
          strict: true,
          noUncheckedIndexedAccess: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["typed-usage.ts", "readme-usage.ts"],
      }),
    );
    let output = "";
    try {
      execFileSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", dir], { encoding: "utf8", stdio: "pipe" });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe("");
  });
});
