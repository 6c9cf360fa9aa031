import { runSucceeded, SEVERITIES } from "./schema.js";
import type { Finding, RunReport, Step } from "./schema.js";
import { FAILED_OUTCOMES, failedSteps, failingGate, formatDuration, formatTime, headline, severityCounts, sortFindings, timeline, toolCounts } from "./view.js";

/**
 * One self-contained HTML page per run: inline CSS, plain inline SVG charts, no script, no font, no image
 * and no link to fetch, so it opens the same from a CI artifact, an e-mail or a laptop offline; a
 * Content-Security-Policy of `default-src 'none'` makes the browser refuse any fetch a future edit would
 * add. Plain SVG rather than a chart library: the two charts (bars and a timeline) are a few dozen lines,
 * and a library would add hundreds of KB of script to every report and need the script allowed.
 * Every string from the report goes through `esc`. Tested in real Chromium (test/pipelines/report/html.test.ts).
 */

export function esc(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Findings listed in the page's table; the rest are counted (the SARIF has them all). */
export const HTML_FINDINGS = 500;

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--skip:#8c959f;--accent:#0969da;
--critical:#8b0000;--high:#cf222e;--medium:#bc4c00;--low:#9a6700;--unknown:#6e7781}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--card:#161b22;--pass:#3fb950;--fail:#f85149;--warn:#d29922;--skip:#6e7681;--accent:#4493f8;
--critical:#ff7b72;--high:#f85149;--medium:#f0883e;--low:#d29922;--unknown:#9198a1}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main,footer{max-width:1200px;margin:0 auto;padding:12px 16px}
header{border-bottom:1px solid var(--line)}
h1{font-size:1.45rem;margin:.2em 0;display:flex;gap:.5em;align-items:center;flex-wrap:wrap}
h2{font-size:1.15rem;margin:1.2em 0 .5em}
h3{font-size:1rem;margin:.8em 0 .3em}
.facts{color:var(--muted);margin:.2em 0;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:999px;padding:.05em .6em;font-size:.85rem;font-weight:600;color:#fff;background:var(--skip)}
.o-passed,.o-verified,.o-done{background:var(--pass)}.o-failed,.o-error,.o-incomplete{background:var(--fail)}.o-blocked,.o-rolled-back,.o-unknown{background:var(--warn)}
section{margin-bottom:8px}
.alert{border:2px solid var(--fail);border-radius:8px;padding:8px 12px;background:var(--card)}
.table{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600}
code,pre{font:.85rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px;max-height:24em;overflow:auto}
.sev{font-weight:700}.sev-critical{color:var(--critical)}.sev-high{color:var(--high)}.sev-medium{color:var(--medium)}.sev-low{color:var(--low)}.sev-unknown{color:var(--unknown)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
svg{display:block;width:100%;height:auto}
svg text{fill:var(--fg);font:12px system-ui,sans-serif}
.tl{display:grid;grid-template-columns:minmax(7em,14em) 1fr minmax(4.5em,auto);gap:2px 8px;align-items:center;font-size:.85rem}
.tl .lane{font-weight:600;grid-column:1/-1;margin-top:6px}
.tl svg{height:14px}
.tl .took{color:var(--muted);text-align:right;white-space:nowrap}
.b-passed{fill:var(--pass)}.b-failed,.b-error{fill:var(--fail)}.b-blocked{fill:var(--warn)}.b-skipped,.b-not-run{fill:var(--skip)}
.track{fill:var(--line);opacity:.45}
.s-critical{fill:var(--critical)}.s-high{fill:var(--high)}.s-medium{fill:var(--medium)}.s-low{fill:var(--low)}.s-unknown{fill:var(--unknown)}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:.8rem;color:var(--muted);margin-top:4px}
.legend i{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.3em;vertical-align:-.05em}
.l-critical{background:var(--critical)}.l-high{background:var(--high)}.l-medium{background:var(--medium)}.l-low{background:var(--low)}.l-unknown{background:var(--unknown)}
footer{color:var(--muted);font-size:.8rem;border-top:1px solid var(--line)}
@media (max-width:600px){body{font-size:14px}h1{font-size:1.2rem}.tl{grid-template-columns:minmax(5em,9em) 1fr auto}
.table table,.table tbody,.table tr,.table td{display:block;width:100%}
.table thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.table tr{border-bottom:1px solid var(--line);padding:4px 0}
.table td{border:0;padding:1px 0;display:grid;grid-template-columns:6.5em 1fr;gap:6px}
.table td::before{content:attr(data-label);color:var(--muted);font-weight:600}
.table caption{display:block;text-align:left}}
`;

function badge(outcome: string): string {
  return `<span class="badge o-${esc(outcome)}">${esc(outcome)}</span>`;
}

function tableOf(header: string[], rows: string[][], caption?: string): string {
  return `<div class="table"><table>${caption ? `<caption class="facts">${esc(caption)}</caption>` : ""}<thead><tr>${header.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td data-label="${esc(header[i] ?? "")}"><div>${c}</div></td>`).join("")}</tr>`)
    .join("")}</tbody></table></div>`;
}

function findingRows(findings: readonly Finding[]): string[][] {
  return findings.map((f) => [`<span class="sev sev-${f.severity}">${f.severity}</span>${f.blocking ? " <strong>blocking</strong>" : ""}`, esc(f.gate), esc(f.tool), `<code>${esc(f.id)}</code>`, esc(f.target), esc(f.title)]);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}

/** Bars of the findings per severity: one SVG, described in its aria-label and <title>. */
function severityChart(findings: readonly Finding[]): string {
  const counts = severityCounts(findings);
  const max = Math.max(1, ...SEVERITIES.map((s) => counts[s]));
  const label = `Findings by severity: ${SEVERITIES.map((s) => `${s} ${counts[s]}`).join(", ")}`;
  const rowH = 24;
  const bars = SEVERITIES.map((s, i) => {
    const w = Math.round((counts[s] / max) * 260);
    const y = i * rowH + 4;
    return `<text x="0" y="${y + 13}">${s}</text><rect class="track" x="80" y="${y}" width="260" height="16" rx="3"/>${w > 0 ? `<rect class="s-${s}" x="80" y="${y}" width="${w}" height="16" rx="3"/>` : ""}<text x="${80 + Math.max(w, 0) + 6}" y="${y + 13}">${counts[s]}</text>`;
  }).join("");
  return `<figure><figcaption>By severity</figcaption><svg role="img" aria-label="${esc(label)}" viewBox="0 0 400 ${SEVERITIES.length * rowH + 4}"><title>${esc(label)}</title>${bars}</svg></figure>`;
}

/** One stacked bar per tool, split by severity. */
function toolChart(findings: readonly Finding[]): string {
  const tools = toolCounts(findings);
  const max = Math.max(1, ...tools.map((t) => t.total));
  const rowH = 24;
  const label = `Findings by tool: ${tools.map((t) => `${t.tool} ${t.total} (${SEVERITIES.filter((s) => t.counts[s] > 0).map((s) => `${t.counts[s]} ${s}`).join(", ")})`).join("; ")}`;
  const rows = tools
    .map((t, i) => {
      const y = i * rowH + 4;
      let x = 100;
      const segments = SEVERITIES.filter((s) => t.counts[s] > 0)
        .map((s) => {
          const w = Math.max(2, Math.round((t.counts[s] / max) * 240));
          const rect = `<rect class="s-${s}" x="${x}" y="${y}" width="${w}" height="16"><title>${esc(`${t.tool}: ${t.counts[s]} ${s}`)}</title></rect>`;
          x += w;
          return rect;
        })
        .join("");
      return `<text x="0" y="${y + 13}">${esc(t.tool.length > 14 ? `${t.tool.slice(0, 13)}…` : t.tool)}</text>${segments}<text x="${x + 6}" y="${y + 13}">${t.total}</text>`;
    })
    .join("");
  const legend = `<div class="legend" aria-hidden="true">${SEVERITIES.map((s) => `<span><i class="l-${s}"></i>${s}</span>`).join("")}</div>`;
  return `<figure><figcaption>By tool</figcaption><svg role="img" aria-label="${esc(label)}" viewBox="0 0 400 ${Math.max(1, tools.length) * rowH + 4}"><title>${esc(label)}</title>${rows}</svg>${legend}</figure>`;
}

/** The timeline: a lane per service (and the run's own steps), a bar per step at its start and as long as it took. */
function timelineOf(report: RunReport): string {
  const { rows, spanMs, untimed } = timeline(report);
  if (rows.length === 0) return untimed > 0 ? `<p class="facts">The steps were not timed.</p>` : "";
  const lanes = new Map<string, typeof rows>();
  for (const r of rows) {
    const lane = r.lane ?? "run";
    lanes.set(lane, [...(lanes.get(lane) ?? []), r]);
  }
  const body = [...lanes]
    .map(([lane, list]) => {
      const items = list
        .map((r) => {
          const x = (r.offsetMs / spanMs) * 1000;
          const w = Math.max(3, ((r.step.durationMs as number) / spanMs) * 1000);
          const label = `${lane} ${r.step.name}: ${r.step.outcome}, started at +${formatDuration(r.offsetMs) || "0 ms"}, took ${formatDuration(r.step.durationMs)}`;
          return `<span>${esc(r.step.name)}</span><svg role="img" aria-label="${esc(label)}" viewBox="0 0 1000 14" preserveAspectRatio="none"><title>${esc(label)}</title><rect class="track" x="0" y="2" width="1000" height="10"/><rect class="b-${r.step.outcome}" x="${x.toFixed(1)}" y="1" width="${Math.min(w, 1000 - x).toFixed(1)}" height="12"/></svg><span class="took">${badge(r.step.outcome)} ${esc(formatDuration(r.step.durationMs))}</span>`;
        })
        .join("");
      return `<div class="lane">${esc(lane)}</div>${items}`;
    })
    .join("");
  return `<div class="tl">${body}</div><p class="facts">From the first step's start to the last step's end: ${esc(formatDuration(spanMs))}.${untimed ? ` ${untimed} step(s) were not timed and are listed below only.` : ""}</p>`;
}

function stepTable(steps: readonly Step[], lane?: (s: Step) => string): string {
  return tableOf(
    [...(lane ? ["service"] : []), "step", "outcome", "started", "took", "detail"],
    steps.map((s) => [...(lane ? [esc(lane(s))] : []), esc(s.name), badge(s.outcome), esc(formatTime(s.startedAt)), esc(formatDuration(s.durationMs)), FAILED_OUTCOMES.has(s.outcome) && s.detail.includes("\n") ? `<pre>${esc(s.detail)}</pre>` : esc(s.detail)]),
  );
}

export function renderHtml(report: RunReport): string {
  const ok = runSucceeded(report);
  const title = headline(report);
  const facts = [
    report.environment ? `environment <strong>${esc(report.environment)}</strong>` : "",
    report.sourceSha ? `source <code>${esc(report.sourceSha.slice(0, 12))}</code>` : "",
    report.base ? `base <code>${esc(report.base)}</code>` : "",
    report.startedAt ? `started ${esc(formatTime(report.startedAt))}` : "",
    report.durationMs !== null ? `took ${esc(formatDuration(report.durationMs))}` : "",
  ].filter(Boolean);
  const sections: string[] = [];

  // Above the fold: the gate that failed and its findings, then what else failed.
  const gate = failingGate(report);
  if (gate) {
    const blocking = gate.findings.filter((f) => f.blocking);
    const list = blocking.length ? blocking : gate.findings;
    sections.push(
      `<section id="failing-gate" class="alert" aria-labelledby="failing-gate-h"><h2 id="failing-gate-h">Failing gate: ${esc(gate.gate.name)} ${badge(gate.gate.outcome)}</h2>${gate.gate.detail ? `<p>${esc(firstLine(gate.gate.detail))}</p>` : ""}${
        list.length ? tableOf(["severity", "gate", "tool", "id", "target", "title"], findingRows(list.slice(0, HTML_FINDINGS)), `${list.length} ${blocking.length ? "blocking " : ""}finding(s)`) : ""
      }</section>`,
    );
  }
  if (!ok) {
    const failed = failedSteps(report);
    if (failed.length || report.failure) {
      sections.push(
        `<section id="what-failed" class="${gate ? "" : "alert"}" aria-labelledby="what-failed-h"><h2 id="what-failed-h">What failed</h2>${
          failed.length ? `<ul>${failed.map(({ service, step }) => `<li><strong>${esc(service ? `${service} ${step.name}` : step.name)}</strong> ${badge(step.outcome)} ${esc(firstLine(step.detail))}</li>`).join("")}</ul>` : ""
        }${report.failure ? `<pre>${esc(report.failure)}</pre>` : ""}</section>`,
      );
    }
  }
  if (report.rollback) {
    const r = report.rollback;
    sections.push(`<section id="rollback" aria-labelledby="rollback-h"><h2 id="rollback-h">Rollback ${badge(r.outcome)}</h2>${r.restored ? `<p>Restored release <strong>${esc(r.restored)}</strong>.</p>` : ""}${stepTable(r.steps)}</section>`);
  }

  const tl = timelineOf(report);
  if (tl) sections.push(`<section id="timeline" aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>${tl}</section>`);
  if (report.steps.length) sections.push(`<section id="steps" aria-labelledby="steps-h"><h2 id="steps-h">Steps</h2>${stepTable(report.steps)}</section>`);
  if (report.services.length) {
    const lanes = report.services.flatMap((svc) => svc.steps.map((s) => ({ s, lane: svc.toolchain ? `${svc.name} (${svc.toolchain})` : svc.name })));
    const laneOf = new Map(lanes.map((l) => [l.s, l.lane]));
    sections.push(`<section id="services" aria-labelledby="services-h"><h2 id="services-h">Services</h2>${stepTable(lanes.map((l) => l.s), (s) => laneOf.get(s) ?? "")}</section>`);
  }
  if (report.gates.length) {
    sections.push(`<section id="gates" aria-labelledby="gates-h"><h2 id="gates-h">Gates</h2>${tableOf(["gate", "outcome", "detail"], report.gates.map((g) => [esc(g.name), badge(g.outcome), esc(firstLine(g.detail))]))}</section>`);
  }
  if (report.findings.length) {
    const sorted = sortFindings(report.findings);
    sections.push(
      `<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings</h2><div class="charts">${severityChart(report.findings)}${toolChart(report.findings)}</div><h3>All findings</h3>${tableOf(
        ["severity", "gate", "tool", "id", "target", "title"],
        findingRows(sorted.slice(0, HTML_FINDINGS)),
      )}${sorted.length > HTML_FINDINGS ? `<p class="facts">…and ${sorted.length - HTML_FINDINGS} more (the SARIF lists them all).</p>` : ""}</section>`,
    );
  }
  if (report.images.length) {
    sections.push(`<section id="images" aria-labelledby="images-h"><h2 id="images-h">Images</h2>${tableOf(["service", "repository", "tag", "digest"], report.images.map((i) => [esc(i.service ?? ""), esc(i.repository), `<code>${esc(i.tag)}</code>`, `<code>${esc(i.digest)}</code>`]))}</section>`);
  }
  if (report.migrations.length) {
    sections.push(
      `<section id="migrations" aria-labelledby="migrations-h"><h2 id="migrations-h">Migrations</h2>${tableOf(["service", "outcome", "applied", "reverted", "detail"], report.migrations.map((m) => [esc(m.service), badge(m.outcome), esc(m.applied.join(", ")), esc(m.reverted.join(", ")), esc(m.detail)]))}</section>`,
    );
  }
  if (report.gitops) {
    const g = report.gitops;
    sections.push(
      `<section id="gitops" aria-labelledby="gitops-h"><h2 id="gitops-h">GitOps commit</h2><p><code>${esc(g.commit)}</code>${g.ledgerId ? ` · ledger release <strong>${esc(g.ledgerId)}</strong>` : ""}${g.promotedFrom ? ` · promoted from ${esc(g.promotedFrom)}` : ""}</p></section>`,
    );
  }
  if (report.warnings.length) sections.push(`<section id="warnings" aria-labelledby="warnings-h"><h2 id="warnings-h">Warnings</h2><ul>${report.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul></section>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light dark">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${badge(report.outcome)} ${esc(title)}</h1>${facts.length ? `<p class="facts">${facts.join(" · ")}</p>` : ""}</header>
<main>
${sections.join("\n")}
</main>
<footer><p>Slipway run report (schemaVersion ${report.schemaVersion}, kind ${esc(report.kind)}).</p></footer>
</body>
</html>
`;
}

