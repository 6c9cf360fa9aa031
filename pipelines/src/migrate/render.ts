import { KIND_LABEL } from "./destructive.js";
import type { Finding, RevertCheck, RunReport, StatusReport } from "./engine.js";
import { describeTarget } from "./load.js";

const MAX_SQL = 200;

function short(sql: string): string {
  const one = sql.replace(/\s+/g, " ").trim();
  return one.length > MAX_SQL ? `${one.slice(0, MAX_SQL - 1)}…` : one;
}

export function renderFinding(f: Finding): string {
  return `${f.migration}: ${KIND_LABEL[f.kind]} ${f.column ? `${f.table}.${f.column}` : f.table}  [${short(f.statement)}]`;
}

/** One migration to revert, as the revert check saw its down(): a line per finding and per problem. */
export function renderRevertCheck(c: RevertCheck): string[] {
  const verdict = !c.blocks ? "ok" : c.allowed ? "ALLOWED" : "BLOCKS";
  const lines = [`${c.migration}: down() ${verdict}${c.problem ? `: ${c.problem.reason}` : c.findings.length === 0 ? `: ${c.statements} statement(s), none destructive` : ""}`];
  for (const f of c.findings) {
    const data = f.holdsData === null ? "could not tell whether it holds data" : f.holdsData ? "it holds data: LOST" : "empty now: nothing lost";
    lines.push(`  ${KIND_LABEL[f.kind]} ${f.column ? `${f.table}.${f.column}` : f.table} (${data})  [${short(f.statement)}]`);
  }
  return lines;
}

export function renderStatus(r: StatusReport): string {
  const lines = [`database: ${describeTarget(r.database)} (migrations table ${r.migrationsTable})`];
  lines.push(`applied (${r.applied.length}):`, ...r.applied.map((m) => `  [x] ${m.name}${r.unknownApplied.includes(m.name) ? "  (not in this code)" : ""}`));
  lines.push(`pending (${r.pending.length}):`, ...r.pending.map((n) => `  [ ] ${n}`));
  if (r.newerReleaseRan) {
    lines.push(`the database has ${r.unknownApplied.length} migration(s) this code does not know (a newer release ran here): ${r.unknownApplied.join(", ")}`);
  }
  if (!r.lock.supported) lines.push(`lock: not supported for ${r.database.type}`);
  else if (r.lock.holders.length === 0) lines.push("lock: free (no run in progress)");
  else lines.push(`lock: held by ${r.lock.holders.map((h) => `pid ${h.pid}${h.application ? ` (${h.application})` : ""}${h.since ? ` connected since ${h.since}` : ""}`).join(", ")}: a run is in progress`);
  if (r.interrupted) {
    lines.push(
      r.interrupted.state === "running"
        ? `interrupted: ${r.interrupted.migration} started outside a transaction at ${r.interrupted.since} and never finished; it is not recorded as applied but part of it may be. Inspect the schema before running again.`
        : `partially applied: ${r.interrupted.migration} failed at ${r.interrupted.since} outside a transaction and left ${r.interrupted.statements ?? "some"} statement(s) applied; it is not recorded as applied.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function renderRun(r: RunReport): string {
  const verb = r.action === "run" ? "apply" : "revert";
  const lines: string[] = [`database: ${describeTarget(r.database)}, transaction mode ${r.transaction}${r.lock === "unsupported" ? ", no lock (unsupported driver)" : ""}`];
  if (r.safety) {
    for (const f of r.safety.findings) lines.push(`${r.safety.policy === "block" ? "BLOCKED" : "warning"}: destructive: ${renderFinding(f)}`);
    for (const t of r.safety.trialFailures) lines.push(`${r.safety.policy === "block" ? "BLOCKED" : "warning"}: ${t.migration} failed when tried in a rolled-back transaction: ${t.error}`);
    for (const n of r.safety.notAnalysed) lines.push(`note: ${n.migration} not checked for destructive statements: ${n.reason}`);
  }
  if (r.revertSafety) {
    lines.push("down() checked in a rolled-back transaction, newest first:");
    for (const c of r.revertSafety.migrations) lines.push(...renderRevertCheck(c).map((l) => `  ${l}`));
  }
  switch (r.status) {
    case "nothing-to-do":
      lines.push(r.action === "run" ? "nothing pending: no migration applied" : "nothing to revert");
      break;
    case "dry-run":
      lines.push(`dry run: would ${verb} ${r.planned.length}: ${r.planned.join(", ")}`);
      if (r.revertSafety?.blocked.length) lines.push(`the revert would be BLOCKED by ${r.revertSafety.blocked.join(", ")}`);
      break;
    case "blocked":
      lines.push(
        r.action === "run"
          ? `blocked: nothing applied (${r.planned.length} pending)`
          : `blocked: nothing reverted; ${r.revertSafety?.blocked.join(", ") ?? ""} would destroy data or cannot be checked (allowDestructiveRevert in slipway.yaml, or --allow-destructive-revert)`,
      );
      break;
    case "applied":
      lines.push(`applied ${r.applied.length}: ${r.applied.join(", ")}`);
      break;
    case "reverted":
      lines.push(`reverted ${r.reverted.length}: ${r.reverted.join(", ")}`);
      break;
    case "failed":
      if (r.failure) lines.push(`FAILED: ${r.failure.migration} ${r.failure.phase}(): ${r.failure.error}`);
      if (r.compensated.length) {
        lines.push(`undid ${r.compensated.length} statement(s) of ${r.failure?.migration ?? "the failed migration"} that ran outside a transaction, newest first:`);
        for (const s of r.compensated) lines.push(`  ${short(s)}`);
      }
      for (const s of r.preexisting) lines.push(`left alone (its object existed before the statement): ${short(s)}`);
      if (r.compensationStopped) lines.push(`could not undo ${short(r.compensationStopped.statement)}: ${r.compensationStopped.reason}`);
      if (r.action === "run" && r.revertFailure) {
        lines.push(r.reverted.length ? `reverted before the revert failed, newest first: ${r.reverted.join(", ")}` : "reverted nothing of this run");
        lines.push(`REVERT FAILED: ${r.revertFailure.migration} down(): ${r.revertFailure.error}`);
        lines.push(`still applied from this run, newest first: ${r.applied.slice().reverse().join(", ")}`);
      } else if (r.action === "run") lines.push(r.reverted.length ? `reverted what this run applied, newest first: ${r.reverted.join(", ")}` : "this run applied nothing else");
      else {
        lines.push(r.reverted.length ? `reverted before the failure, newest first: ${r.reverted.join(", ")}` : "reverted nothing");
        if (r.left) lines.push(`still applied, newest first: ${r.left.join(", ")}`);
      }
      for (const s of r.residue) lines.push(`left applied (ran outside a transaction): ${short(s)}`);
      break;
  }
  if (r.status === "failed" || r.status === "applied" || r.status === "reverted") {
    lines.push(`now: ${r.final.applied.length} applied${r.final.applied.length ? ` (last ${r.final.applied[r.final.applied.length - 1]?.name})` : ""}, ${r.final.pending.length} pending`);
  }
  return `${lines.join("\n")}\n`;
}
