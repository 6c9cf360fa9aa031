import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

// Apart from ./load.ts so that finding no slipway.yaml loads neither zod nor any area's schema (issue 16, start-up).

export const CONFIG_FILE_NAMES = ["slipway.yaml", "slipway.yml"] as const;

/** Finds slipway.yaml (or .yml) at the root of `dir`. */
export function findConfigFile(dir: string): string | null {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = join(dir, name);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}
