/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../../pipelines/src/report/html.js";
import { RunReport } from "../../../pipelines/src/report/schema.js";
import { redactReport } from "../../../pipelines/src/report/view.js";
import { chromiumAvailable, launchChromium } from "../../helpers/chromium.js";

/*
 * The HTML report as people see it: opened from a file in real headless Chromium (Debian's), at a phone's
 * width (375 px) and a desktop's (1440 px), light and dark. No pixel goldens (fonts differ between
 * machines): the assertions are what a reader notices (the failing gate in the first screen, nothing cut
 * off sideways, no request leaves the page, no script error) and the screenshot's structure (its size, and
 * that the key regions are drawn, not blank).
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "report");
const VIEWPORTS = [
  { width: 375, height: 667 },
  { width: 1440, height: 900 },
] as const;

function html(name: string): string {
  return renderHtml(redactReport(RunReport.parse(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")))));
}

const available = chromiumAvailable();
const work = mkdtempSync(join(tmpdir(), "slipway-html-"));
let browser: Browser;
let decoder: Page;
const opened = new Map<string, Promise<Opened>>();

beforeAll(async () => {
  if (!available) return;
  browser = await launchChromium();
  decoder = await (await browser.newContext()).newPage();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

type Opened = { page: Page; requests: string[]; errors: string[]; close: () => Promise<void> };

/** Each report opened once per width and colour scheme, shared by the tests that look at it (the browser is the slow part). */
function open(name: string, viewport: { width: number; height: number }, colorScheme: "light" | "dark" = "light"): Promise<Opened> {
  const key = `${name} ${viewport.width} ${colorScheme}`;
  let page = opened.get(key);
  if (!page) opened.set(key, (page = openPage(name, viewport, colorScheme)));
  return page;
}

/** Opens the report from a file, recording every request beyond the file itself and every console error. */
async function openPage(name: string, viewport: { width: number; height: number }, colorScheme: "light" | "dark"): Promise<Opened> {
  const file = join(work, `${name}-${viewport.width}-${colorScheme}.html`);
  writeFileSync(file, html(name));
  const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  const url = pathToFileURL(file).href;
  page.on("request", (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url, { waitUntil: "load", timeout: 20_000 });
  // Closed with the browser: the pages are shared between tests.
  return { page, requests, errors, close: async () => {} };
}

/** What a PNG's pixels hold, decoded by Chromium itself in a blank page: size, share of pixels unlike the corner's, distinct colours. */
async function pixels(png: Buffer): Promise<{ width: number; height: number; inked: number; colours: number }> {
  {
    return await decoder.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const bg = [data[0], data[1], data[2]];
      let inked = 0;
      const colours = new Set<number>();
      for (let i = 0; i < data.length; i += 4) {
        const r = data[i] as number;
        const g = data[i + 1] as number;
        const b = data[i + 2] as number;
        if (Math.abs(r - (bg[0] as number)) + Math.abs(g - (bg[1] as number)) + Math.abs(b - (bg[2] as number)) > 30) inked++;
        colours.add((r << 16) | (g << 8) | b);
      }
      return { width: canvas.width, height: canvas.height, inked: inked / (data.length / 4), colours: colours.size };
    }, png.toString("base64"));
  }
}

/** A PNG's size from its IHDR chunk (https://www.w3.org/TR/png-3/#11IHDR): width and height, big-endian, at bytes 16 and 20. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe.skipIf(!available)("pipelines/src/report/html in Chromium", () => {
  it.each(VIEWPORTS)("shows a failing ci's gate and its findings in the first screen at $width px, with no request and no error", async (viewport) => {
    const { page, requests, errors, close } = await open("ci-failed", viewport);
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const gate = page.locator("#failing-gate");
      await expect(gate.isVisible()).resolves.toBe(true);
      const box = await gate.boundingBox();
      expect(box).not.toBeNull();
      // Its heading and its first finding are above the fold.
      const firstFinding = page.locator("#failing-gate tbody tr").first();
      const row = await firstFinding.boundingBox();
      expect(row && row.y + row.height).toBeLessThanOrEqual(viewport.height);
      await expect(firstFinding.innerText()).resolves.toContain("CVE-2026-0001");
      await expect(page.locator("#failing-gate h2").innerText()).resolves.toContain("Failing gate: image api");
      // Readable: nothing wider than the screen (wide tables scroll inside their own box).
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await close();
    }
  });

  it.each(VIEWPORTS)("shows a rolled-back release's failure and its rollback at $width px", async (viewport) => {
    const { page, requests, errors, close } = await open("release-rolled-back", viewport);
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const failed = await page.locator("#what-failed h2").boundingBox();
      expect(failed && failed.y + failed.height).toBeLessThanOrEqual(viewport.height);
      await expect(page.locator("#what-failed").innerText()).resolves.toContain("CrashLoopBackOff");
      await expect(page.locator("#rollback h2").innerText()).resolves.toContain("Rollback");
      await expect(page.locator("#images").innerText()).resolves.toContain("sha256:4c1f9e2a0b7d3c5e6f8a9b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6");
      await expect(page.locator("#migrations").innerText()).resolves.toContain("AddOrderStatus1733500000000");
      await expect(page.locator("#gitops").innerText()).resolves.toContain("5d2e7a9c1b3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b");
      const text = await page.locator("body").innerText();
      expect(text).not.toContain("ghp_CanaryToken1234567890");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await close();
    }
  });

  it("is accessible: landmarks, one h1, sections named by their headings, every chart an image with a label", async () => {
    const { page, close } = await open("ci-failed", { width: 1440, height: 900 });
    try {
      const a11y = await page.evaluate(() => ({
        banner: document.querySelectorAll("body > header").length,
        main: document.querySelectorAll("main").length,
        footer: document.querySelectorAll("body > footer").length,
        h1: document.querySelectorAll("h1").length,
        lang: document.documentElement.lang,
        unnamedSections: [...document.querySelectorAll("section")].filter((s) => !document.getElementById(s.getAttribute("aria-labelledby") ?? "")?.textContent?.trim()).length,
        svgs: [...document.querySelectorAll("svg")].map((s) => ({ role: s.getAttribute("role"), label: s.getAttribute("aria-label") ?? "", title: s.querySelector("title")?.textContent ?? "" })),
      }));
      expect(a11y).toMatchObject({ banner: 1, main: 1, footer: 1, h1: 1, lang: "en", unnamedSections: 0 });
      expect(a11y.svgs.length).toBeGreaterThan(10);
      for (const svg of a11y.svgs) {
        expect(svg.role).toBe("img");
        expect(svg.label.length).toBeGreaterThan(5);
        expect(svg.title).toBe(svg.label);
      }
      // The charts say their numbers to a screen reader.
      const labels = a11y.svgs.map((s) => s.label);
      expect(labels).toContain("Findings by severity: critical 2, high 1, medium 2, low 2, unknown 1");
      expect(labels).toContain("Findings by tool: trivy 5 (2 critical, 1 high, 1 low, 1 unknown); npm-audit 1 (1 medium); osv-scanner 2 (1 medium, 1 low)");
      expect(labels).toContain("worker test: failed, started at +45.3 s, took 21.4 s");
    } finally {
      await close();
    }
  });

  it("escapes every string: markup in a test's output or a finding's title is text, not elements", async () => {
    const { page, errors, close } = await open("ci-failed", { width: 1440, height: 900 });
    try {
      expect(errors).toEqual([]);
      const found = await page.evaluate(() => ({ scripts: document.querySelectorAll("script").length, bold: document.querySelectorAll("td b").length, text: document.body.innerText }));
      expect(found.scripts).toBe(0);
      expect(found.bold).toBe(0);
      expect(found.text).toContain("<script>alert(1)</script>");
      expect(found.text).toContain('tar: <b>bold</b> & "quoted" title');
    } finally {
      await close();
    }
  });

  it("follows the reader's dark mode", async () => {
    const light = await open("ci-failed", { width: 1440, height: 900 }, "light");
    const dark = await open("ci-failed", { width: 1440, height: 900 }, "dark");
    try {
      const luminance = (p: Page) =>
        p.evaluate(() => {
          const [r, g, b] = (getComputedStyle(document.body).backgroundColor.match(/\d+/g) ?? []).map(Number);
          return (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)) / 255;
        });
      expect(await luminance(light.page)).toBeGreaterThan(0.9);
      expect(await luminance(dark.page)).toBeLessThan(0.15);
      expect(dark.errors).toEqual([]);
    } finally {
      await light.close();
      await dark.close();
    }
  });

  it.each(VIEWPORTS)("screenshots at $width px: the page's width, and the header, the failing gate and the charts drawn", async (viewport) => {
    const { page, close } = await open("ci-failed", viewport);
    try {
      const full = pngSize(await page.screenshot({ fullPage: true }));
      expect(full.width).toBe(viewport.width);
      expect(full.height).toBeGreaterThan(viewport.height);
      for (const region of ["body > header", "#failing-gate", "#findings .charts", "#timeline"]) {
        const shot = await pixels(await page.locator(region).screenshot());
        expect(shot.width, region).toBeGreaterThan(viewport.width * 0.8);
        expect(shot.inked, region).toBeGreaterThan(0.01);
        expect(shot.colours, region).toBeGreaterThan(8);
      }
    } finally {
      await close();
    }
  });
});
