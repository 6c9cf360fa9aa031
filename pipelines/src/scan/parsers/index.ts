import type { RawFinding, Tool } from "../model.js";
import type { ReportInput } from "./common.js";
import { parseNpmAudit } from "./npm-audit.js";
import { parseOsv } from "./osv.js";
import { parseTrivy } from "./trivy.js";
import { parseTrufflehog } from "./trufflehog.js";

export type Parser = (input: ReportInput) => RawFinding[];

/** One parser per scanner format, string in, findings out (no fs): the gate reads the files. */
export const PARSERS: ReadonlyMap<Tool, Parser> = new Map<Tool, Parser>([
  ["trivy", parseTrivy],
  ["trufflehog", parseTrufflehog],
  ["npm-audit", parseNpmAudit],
  ["osv-scanner", parseOsv],
]);

export type { ReportInput };
