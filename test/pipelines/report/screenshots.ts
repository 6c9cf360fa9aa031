// Regenerates the README's screenshots of the HTML run report from the fixture run reports, through the
// same path a user takes (`slipway report --format html`, opened in headless Chromium from a file):
//   npm run report:screenshots
// Writes test/fixtures/report/<fixture>-<width>.png. Needs Debian's chromium (test/bootstrap.sh).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { renderHtml } from "../../../pipelines/src/report/html.js";
import { RunReport } from "../../../pipelines/src/report/schema.js";
import { redactReport } from "../../../pipelines/src/report/view.js";
import { launchChromium } from "../../helpers/chromium.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "report");
const SHOTS: Array<{ fixture: string; width: number; height: number }> = [
  { fixture: "ci-failed", width: 1440, height: 900 },
  { fixture: "release-rolled-back", width: 1440, height: 900 },
  { fixture: "ci-failed", width: 375, height: 812 },
];

const work = mkdtempSync(join(tmpdir(), "slipway-shots-"));
const browser = await launchChromium();
try {
  for (const shot of SHOTS) {
    const report = redactReport(RunReport.parse(JSON.parse(readFileSync(join(FIXTURES, `${shot.fixture}.json`), "utf8"))));
    const file = join(work, `${shot.fixture}.html`);
    writeFileSync(file, renderHtml(report));
    const context = await browser.newContext({ viewport: { width: shot.width, height: shot.height }, deviceScaleFactor: 1, colorScheme: "light" });
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    // The first screen: what a reader sees before scrolling.
    const out = join(FIXTURES, `${shot.fixture}-${shot.width}.png`);
    writeFileSync(out, await page.screenshot({ fullPage: false }));
    console.log(`wrote ${out}`);
    await context.close();
  }
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}
