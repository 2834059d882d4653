// `npm run docs:screenshot`: docs/reference.png for the README, taken by
// headless Chromium from /docs of the built Worker (run `npm run build` first).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createTestHarness } from "wrangler";

const root = fileURLToPath(new URL("..", import.meta.url));
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

const server = createTestHarness({ root, workers: [{ configPath: "./wrangler.toml", prebuiltWorkerDir: "./dist" }] });
const { url } = await server.listen();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(new URL("/docs#tag/time-entries/GET/v1/time-entries", url).href);
  await page.locator("a .sidebar-heading-type").first().waitFor({ timeout: 20_000 });
  await page.waitForTimeout(1_500);
  await page.screenshot({ path: join(root, "docs", "reference.png") });
  console.log("Wrote docs/reference.png");
} finally {
  await browser.close();
  await server.close();
}
