// /docs in a real browser: headless Chromium opens the API reference as the
// Worker serves it in workerd (HTML from the app, script from the static
// assets), with every request to another origin refused, and finds every
// operation and webhook of /openapi.json on the page.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "./workerd-harness";

/** Debian's `chromium` (CI installs it), or CHROMIUM_PATH. */
const executablePath = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (path): path is string => !!path && existsSync(path),
);

// Like PostgreSQL, the browser is optional on a developer's machine and required in CI.
const missingChromium = "No Chromium: install Debian's chromium package or set CHROMIUM_PATH";
if (!executablePath) {
  if (process.env.CI) throw new Error(`${missingChromium}; CI must run the browser test (.ci/run installs it)`);
  console.warn(`${missingChromium}: the /docs browser test is skipped (CI runs it)`);
}

let worker: Awaited<ReturnType<typeof startWorker>>;
let browser: Browser;

beforeAll(async () => {
  if (!executablePath) return;
  worker = await startWorker();
  browser = await chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});
afterAll(async () => {
  await browser?.close();
  await worker?.server.close();
});

describe.skipIf(!executablePath)("GET /docs in headless Chromium", () => {
  it("lists every operation and webhook of /openapi.json, loading nothing from another origin", async () => {
    const document = (await (await fetch(new URL("/openapi.json", worker.url))).json()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
      webhooks: Record<string, Record<string, { summary?: string }>>;
    };
    // Webhooks are listed like operations, by their summary.
    const expected = [...Object.entries(document.paths), ...Object.entries(document.webhooks)]
      .flatMap(([path, item]) =>
        Object.entries(item).map(([method, operation]) => `${method.toUpperCase()} ${operation.summary ?? path}`),
      )
      .sort();
    expect(expected.length).toBeGreaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const foreign: string[] = [];
    await page.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.origin === worker.url.origin || url.protocol === "data:" || url.protocol === "blob:") {
        return route.continue();
      }
      foreign.push(url.href);
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    const response = await page.goto(new URL("/docs", worker.url).href);
    expect(response?.status()).toBe(200);
    // The sidebar (every tag open) has one entry per operation: its summary and a method badge.
    const badges = page.locator("a .sidebar-heading-type");
    await badges.first().waitFor({ timeout: 20_000 });
    const listed = await badges.evaluateAll((elements) =>
      elements.map((badge) => {
        const method = /sidebar-heading-type--(\w+)/.exec(badge.className)?.[1] ?? "?";
        const label = badge
          .closest("a")
          ?.textContent?.replace(badge.textContent ?? "", "")
          .trim();
        return `${method.toUpperCase()} ${label}`;
      }),
    );

    expect(listed.sort()).toEqual(expected);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
