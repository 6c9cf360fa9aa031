import { KINDS } from "../model.js";
import type { GateResult } from "../policy.js";
import { describeFinding, subject } from "./text.js";

/**
 * JUnit XML as Azure DevOps (PublishTestResults, JUnit) and GitHub test reporters read it: one
 * suite per kind, one failing test case per failing finding, one per expired exception, and one
 * passing case per kind when nothing of that kind fails (so a green gate still shows its checks).
 *
 * Written by hand rather than with an XML builder: the document is three fixed levels with five
 * attributes, and a builder took about 60 ms for 2,000 failing findings (the gate's budget is 1 s).
 */

// XML 1.0 forbids most control characters even escaped; scanner text can contain them.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;" };

/** Text or an attribute value: invalid characters replaced, markup characters escaped. */
function xml(text: string | number): string {
  return String(text)
    .replace(INVALID_XML, "\uFFFD")
    .replace(/[&<>'"]/g, (c) => ENTITIES[c] as string);
}

interface TestCase {
  name: string;
  classname: string;
  failure?: { message: string; type: string; text: string };
}

interface Suite {
  name: string;
  failures: number;
  cases: TestCase[];
}

function testCase(c: TestCase): string {
  const open = `    <testcase name="${xml(c.name)}" classname="${xml(c.classname)}"`;
  if (!c.failure) return `${open}/>`;
  return `${open}>\n      <failure message="${xml(c.failure.message)}" type="${xml(c.failure.type)}">${xml(c.failure.text)}</failure>\n    </testcase>`;
}

export function renderJunit(gate: GateResult): string {
  const suites: Suite[] = KINDS.map((kind) => {
    const failing = gate.failing.filter((f) => f.kind === kind);
    const cases: TestCase[] = failing.map((f) => ({
      name: `${f.severity} ${f.id} ${subject(f)}`,
      classname: `slipway.scan.${kind}`,
      failure: { message: `${f.severity} ${f.kind} ${f.id}: ${f.title}`, type: f.severity, text: describeFinding(f) },
    }));
    if (cases.length === 0) cases.push({ name: `no ${kind} over the policy`, classname: `slipway.scan.${kind}` });
    return { name: `security gate: ${kind}`, failures: failing.length, cases };
  });
  const expired: TestCase[] = gate.expired.map((e) => ({
    name: `exception ${e.exception.id ?? e.exception.fingerprint} expired on ${e.exception.expires}`,
    classname: "slipway.scan.exceptions",
    failure: {
      message: `scan.exceptions[${e.index}] (${e.exception.id ?? e.exception.fingerprint}, owner ${e.exception.owner}) expired on ${e.exception.expires}`,
      type: "EXPIRED",
      text: `Reason given: ${e.exception.reason}\nRenew it with a new expiry after review, or remove it and fix the finding.`,
    },
  }));
  suites.push({
    name: "security gate: exceptions",
    failures: expired.length,
    cases: expired.length > 0 ? expired : [{ name: "no expired exception", classname: "slipway.scan.exceptions" }],
  });
  const tests = suites.reduce((n, s) => n + s.cases.length, 0);
  const failures = suites.reduce((n, s) => n + s.failures, 0);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="slipway scan gate" tests="${tests}" failures="${failures}" errors="0">`];
  for (const s of suites) {
    lines.push(`  <testsuite name="${xml(s.name)}" tests="${s.cases.length}" failures="${s.failures}" errors="0">`);
    for (const c of s.cases) lines.push(testCase(c));
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}
