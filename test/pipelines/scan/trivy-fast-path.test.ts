import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { RawFinding } from "../../../pipelines/src/scan/model.js";
import { parseTrivy, trivyFindingsByResult, trivyFindingsWhole } from "../../../pipelines/src/scan/parsers/trivy.js";

/**
 * The Trivy parser reads big reports one `Results` element at a time with hand-written checks
 * (trivyFindingsByResult), and anything else with JSON.parse of the whole text and the zod schemas
 * (trivyFindingsWhole). The fast path may only ever be stricter: whatever it accepts, the whole
 * path accepts too, with the same findings; whatever the schemas refuse, it refuses, so the error
 * the user sees always comes from the schemas (tests in parsers.test.ts check those messages).
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "scan");
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");

type Whole = { findings: RawFinding[] } | { error: unknown };
function whole(text: string): Whole {
  try {
    return { findings: trivyFindingsWhole({ text, file: "report.json" }) };
  } catch (error) {
    return { error };
  }
}

/** The property itself: the fast path refuses, or agrees with the whole path. */
function expectNoMoreLenient(text: string): "accepted" | "refused" {
  const fast = trivyFindingsByResult({ text, file: "report.json" });
  const slow = whole(text);
  if (fast === undefined) return "refused";
  expect(slow).toEqual({ findings: fast });
  return "accepted";
}

/** Every field the schemas model, per list, with values of every JSON type and the edge cases the rules turn on. */
const FIELDS = {
  Vulnerabilities: ["VulnerabilityID", "PkgName", "PkgPath", "InstalledVersion", "FixedVersion", "Severity", "Title", "Description", "PrimaryURL", "CweIDs", "Status"],
  Secrets: ["RuleID", "Category", "Severity", "Title", "StartLine"],
  Misconfigurations: ["ID", "AVDID", "Title", "Description", "Message", "Resolution", "Severity", "PrimaryURL", "Status", "CauseMetadata"],
} as const;
const VALUES: unknown[] = [undefined, null, "", "x", "SEVERE", "CRITICAL", "critical", "FAIL", "PASS", "will_not_fix", "not_affected", 0, 3, -1, 1.5, 2 ** 53, true, {}, [], { StartLine: 2 }, { StartLine: 1.5 }, { Resource: 1 }, ["CWE-506"], [1]];

function mutated(report: Record<string, unknown>, path: (string | number)[], value: unknown): string {
  const copy = structuredClone(report);
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return JSON.stringify(copy, null, 2);
}

describe("pipelines/src/scan/parsers/trivy", () => {
  it.each(["trivy-image.json", "trivy-fs.json"])("reads %s on the fast path, with the same findings as the whole path", (name) => {
    const fast = trivyFindingsByResult({ text: fixture(name), file: name });
    expect(fast).toBeDefined();
    expect(fast).toEqual(trivyFindingsWhole({ text: fixture(name), file: name }));
    expect(fast?.length).toBeGreaterThan(0);
  });

  it.each(["null.json", "truncated.json", "trivy-schema1.json", "trivy-unknown-severity.json", "trivy-missing-field.json"])(
    "leaves %s to the whole path, whose error the user sees",
    (name) => {
      expect(trivyFindingsByResult({ text: fixture(name), file: name })).toBeUndefined();
      expect(whole(fixture(name))).toHaveProperty("error");
    },
  );

  it("is never more lenient than the schemas: every modelled field set to every kind of value", () => {
    const outcomes = { accepted: 0, refused: 0 };
    for (const name of ["trivy-image.json", "trivy-fs.json"]) {
      const report = JSON.parse(fixture(name)) as { Results: Record<string, unknown[]>[] };
      report.Results.forEach((result, r) => {
        for (const [list, fields] of Object.entries(FIELDS)) {
          if (!Array.isArray(result[list]) || result[list].length === 0) continue;
          for (const field of fields) for (const value of VALUES) outcomes[expectNoMoreLenient(mutated(report, ["Results", r, list, 0, field], value))]++;
          for (const value of VALUES) outcomes[expectNoMoreLenient(mutated(report, ["Results", r, list, 0], value))]++;
          for (const value of VALUES) outcomes[expectNoMoreLenient(mutated(report, ["Results", r, list], value))]++;
        }
        for (const field of ["Target", "Class"]) for (const value of VALUES) outcomes[expectNoMoreLenient(mutated(report, ["Results", r, field], value))]++;
        for (const value of VALUES) outcomes[expectNoMoreLenient(mutated(report, ["Results", r], value))]++;
      });
      for (const field of ["SchemaVersion", "ArtifactName", "Results"]) for (const value of VALUES) outcomes[expectNoMoreLenient(mutated(report, [field], value))]++;
    }
    // Both branches ran: the property was tested, not assumed.
    expect(outcomes.accepted).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });

  it("reads the same findings however the JSON is laid out", () => {
    const report = JSON.parse(fixture("trivy-image.json")) as unknown;
    const expected = trivyFindingsWhole({ text: fixture("trivy-image.json"), file: "r.json" });
    for (const text of [JSON.stringify(report), JSON.stringify(report, null, "\t").replace(/\n/g, "\r\n"), `\n ${JSON.stringify(report, null, 4)} \n`]) {
      expect(trivyFindingsByResult({ text, file: "r.json" })).toEqual(expected);
    }
  });

  it("falls back to the whole path for layouts it does not split, with the same findings", () => {
    const text = fixture("trivy-image.json");
    const escapedKey = text.replace('"Results"', '"Re\\u0073ults"');
    expect(trivyFindingsByResult({ text: escapedKey, file: "r.json" })).toBeUndefined();
    expect(parseTrivy({ text: escapedKey, file: "r.json" })).toEqual(parseTrivy({ text, file: "r.json" }));
    const noResults = JSON.stringify({ SchemaVersion: 2, ArtifactName: "x", Results: null });
    expect(trivyFindingsByResult({ text: noResults, file: "r.json" })).toBeUndefined();
    expect(parseTrivy({ text: noResults, file: "r.json" })).toEqual([]);
  });

  it("keeps every finding of a big report, in order", () => {
    const results = Array.from({ length: 40 }, (_, t) => ({
      Target: `svc-${t}/package-lock.json`,
      Class: "lang-pkgs",
      Vulnerabilities: Array.from({ length: 25 }, (_, i) => ({ VulnerabilityID: `CVE-2024-${t}-${i}`, PkgName: `pkg-${i}`, InstalledVersion: "1.0.0", Severity: "HIGH" })),
      Secrets: [{ RuleID: "generic", Severity: "LOW", Title: "t", StartLine: t }],
    }));
    const text = JSON.stringify({ SchemaVersion: 2, Results: results }, null, 2);
    const fast = trivyFindingsByResult({ text, file: "r.json" });
    expect(fast).toHaveLength(40 * 26);
    expect(fast).toEqual(trivyFindingsWhole({ text, file: "r.json" }));
  });
});
