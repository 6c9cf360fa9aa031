import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

/** Debian's chromium (test/bootstrap.sh installs it); CHROMIUM names another build. */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Chromium is a system component (Debian package `chromium`): in CI its absence is a failure, locally a visible skip. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === "true") throw new Error(`${CHROMIUM} is missing: install the Debian package chromium (test/bootstrap.sh)`);
  console.warn(`SKIPPED Chromium tests: ${CHROMIUM} not found (apt-get install chromium)`);
  return false;
}

/**
 * Headless Chromium driven by playwright-core over CDP, with the system's browser (playwright-core downloads
 * none). --no-sandbox: tests run as root here, where Chromium refuses its sandbox.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 30_000, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}
