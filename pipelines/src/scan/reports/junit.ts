import { XMLBuilder } from "fast-xml-parser";
import { KINDS } from "../model.js";
import type { GateResult } from "../policy.js";
import { describeFinding, subject } from "./text.js";

/**
 * JUnit XML as Azure DevOps (PublishTestResults, JUnit) and GitHub test reporters read it: one
 * suite per kind, one failing test case per failing finding, one per expired exception, and one
 * passing case per kind when nothing of that kind fails (so a green gate still shows its checks).
 */

// XML 1.0 forbids most control characters even escaped; scanner text can contain them.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const clean = (text: string): string => text.replace(INVALID_XML, "\uFFFD");

interface TestCase {
  "@_name": string;
  "@_classname": string;
  failure?: { "@_message": string; "@_type": string; "#text": string };
}

export function renderJunit(gate: GateResult): string {
  const suites = KINDS.map((kind) => {
    const failing = gate.failing.filter((f) => f.kind === kind);
    const cases: TestCase[] = failing.map((f) => ({
      "@_name": clean(`${f.severity} ${f.id} ${subject(f)}`),
      "@_classname": `slipway.scan.${kind}`,
      failure: { "@_message": clean(`${f.severity} ${f.kind} ${f.id}: ${f.title}`), "@_type": f.severity, "#text": clean(describeFinding(f)) },
    }));
    if (cases.length === 0) cases.push({ "@_name": `no ${kind} over the policy`, "@_classname": `slipway.scan.${kind}` });
    return { "@_name": `security gate: ${kind}`, "@_tests": cases.length, "@_failures": failing.length, "@_errors": 0, testcase: cases };
  });
  const expiredCases: TestCase[] = gate.expired.map((e) => ({
    "@_name": clean(`exception ${e.exception.id ?? e.exception.fingerprint} expired on ${e.exception.expires}`),
    "@_classname": "slipway.scan.exceptions",
    failure: {
      "@_message": clean(`scan.exceptions[${e.index}] (${e.exception.id ?? e.exception.fingerprint}, owner ${e.exception.owner}) expired on ${e.exception.expires}`),
      "@_type": "EXPIRED",
      "#text": clean(`Reason given: ${e.exception.reason}\nRenew it with a new expiry after review, or remove it and fix the finding.`),
    },
  }));
  const exceptionsSuite = {
    "@_name": "security gate: exceptions",
    "@_tests": Math.max(1, expiredCases.length),
    "@_failures": expiredCases.length,
    "@_errors": 0,
    testcase: expiredCases.length > 0 ? expiredCases : [{ "@_name": "no expired exception", "@_classname": "slipway.scan.exceptions" }],
  };
  const all = [...suites, exceptionsSuite];
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", format: true, suppressEmptyNode: true });
  return builder.build({
    "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
    testsuites: {
      "@_name": "slipway scan gate",
      "@_tests": all.reduce((n, s) => n + s["@_tests"], 0),
      "@_failures": all.reduce((n, s) => n + s["@_failures"], 0),
      "@_errors": 0,
      testsuite: all,
    },
  }) as string;
}
