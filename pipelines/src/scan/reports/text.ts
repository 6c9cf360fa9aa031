import type { Finding } from "../model.js";
import { NO_FIX_STATUSES } from "../model.js";
import type { DecidedFinding } from "../policy.js";

/** Human wording shared by the three reports, so they say the same thing. */

export function where(f: Finding): string {
  const l = f.locations[0];
  if (!l) return f.target;
  const file = l.file ?? l.target;
  return `${file}${l.line !== undefined ? `:${l.line}` : ""}${l.commit ? ` @${l.commit.slice(0, 12)}` : ""}`;
}

export function subject(f: Finding): string {
  if (f.kind === "vulnerability") return `${f.package ?? "?"}${f.installedVersion ? `@${f.installedVersion}` : ""}`;
  return where(f);
}

export function fixText(f: Finding): string {
  if (f.kind !== "vulnerability") return "";
  if (f.fixedVersions.length > 0) return f.fixedVersions.join(", ");
  if (f.status !== undefined && NO_FIX_STATUSES.has(f.status)) return `none (${f.status})`;
  return f.fixAvailable ? "yes" : "none";
}

export function decisionText(f: DecidedFinding): string {
  switch (f.decision.status) {
    case "fail":
      return "fails the gate";
    case "excepted":
      return `excepted until ${f.decision.exception.expires} (${f.decision.exception.owner}: ${f.decision.exception.reason})`;
    case "unfixed-ignored":
      return "no fix yet (ignoreUnfixed)";
    default:
      return "below policy";
  }
}

export function describeFinding(f: DecidedFinding): string {
  return [
    `${f.severity} ${f.kind} ${f.id}: ${f.title}`,
    f.kind === "vulnerability" ? `Package: ${subject(f)}; fixed in: ${fixText(f)}` : "",
    f.verification ? `Verification: ${f.verification}` : "",
    f.malicious ? "Malicious package: remove it, and treat every machine that installed it as compromised (rotate its credentials)." : "",
    f.aliases.length > 0 ? `Aliases: ${f.aliases.join(", ")}` : "",
    f.locations.length === 0 ? `Found by ${f.tools.join(", ")}.` : `Found by ${f.tools.join(", ")} in: ${f.locations.slice(0, 20).map((l) => `${l.target}${l.file && l.file !== l.target ? ` ${l.file}` : ""}${l.line !== undefined ? `:${l.line}` : ""}${l.commit ? ` @${l.commit.slice(0, 12)}` : ""}`).join("; ")}${f.locations.length > 20 ? ` and ${f.locations.length - 20} more` : ""}`,
    f.paths && f.paths.length > 0 ? `Dependency paths: ${f.paths.map((p) => p.join(" > ")).join("; ")}` : "",
    f.url ? `More: ${f.url}` : "",
    `Fingerprint: ${f.fingerprint}`,
  ]
    .filter(Boolean)
    .join("\n");
}
