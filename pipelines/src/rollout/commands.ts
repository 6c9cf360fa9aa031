import { delimiter, resolve } from "node:path";
import { defineCommand } from "../cli/command.js";
import { commandConfig, printError, printJson } from "../cli/output.js";
import { painter, verdict } from "../cli/style.js";
import type { SlipwayError } from "../errors.js";
import { EXIT, rolloutBadInput, rolloutFailed, rolloutPaused, rolloutTimedOut, rolloutUnknown, rolloutUnverifiable } from "../errors.js";
import { AKS_IDENTITY_MODES as IDENTITY_MODES, parseMode } from "../azure/modes.js";
import { formatDuration, MAX_DURATION_TEXT, parseDuration } from "./duration.js";
import type { GitopsTarget } from "./gitops.js";
import { OBJECT_REF_PATTERN } from "./gitops.js";
import { DEFAULT_THRESHOLDS } from "./health.js";
import type { ImageExpectation } from "./images.js";
import { parseImageExpectation } from "./images.js";
import { parseProgressSetting, PROGRESS_SETTINGS, progressDisplay } from "./progress.js";
import type { VerifyResult } from "./verify.js";
import { checkOutputDir } from "../cli/paths.js";

const usage = [
  "slipway rollout verify [--kubeconfig FILE] [--context C] --namespace NS",
  "    ([--deployment NAME...] [--statefulset NAME...] [--daemonset NAME...] | --selector LABELS)",
  "    [--image IMAGE=TAG...] [--set-images] [--flux-kustomization NS/NAME [--flux-helmrelease NS/NAME] | --argocd-app NS/NAME [--argocd-sync]] [--reconcile]",
  "    [--revision SHA] [--timeout 10m] [--diagnostics DIR] [--azure-identity MODE] [--config FILE] [--json]",
].join("\n");

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const SHA = /^[0-9a-f]{7,64}$/i;
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
// Label selector syntax (=, ==, !=, in, notin, exists, !); the API server checks the rest and answers 400.
const SELECTOR = /^[A-Za-z0-9_./\-=!,() ]+$/;
const DEFAULT_TIMEOUT = "10m";
const DEFAULT_LOG_LINES = 100;

function splitRef(ref: string): { namespace: string; name: string } {
  const [namespace = "", name = ""] = ref.split("/");
  return { namespace, name };
}

export const rolloutVerify = defineCommand({
  path: ["rollout", "verify"],
  summary: "Wait for the GitOps commit to be applied, then prove the Deployments, StatefulSets and DaemonSets healthy, failing fast",
  usage,
  options: {
    kubeconfig: { type: "string" },
    context: { type: "string", value: "NAME", describe: "the kubeconfig context", defaultText: "its current-context" },
    namespace: { type: "string", short: "n", value: "NS", describe: "the namespace of the workloads (required)" },
    deployment: { type: "string", multiple: true, value: "NAME", describe: "a Deployment to prove healthy" },
    statefulset: { type: "string", multiple: true, value: "NAME", describe: "a StatefulSet to prove healthy" },
    daemonset: { type: "string", multiple: true, value: "NAME", describe: "a DaemonSet to prove healthy" },
    selector: { type: "string", short: "l", value: "LABELS", describe: "every Deployment, StatefulSet and DaemonSet with these labels, e.g. app=api,tier!=batch" },
    image: { type: "string", multiple: true, value: "IMAGE=TAG", describe: "the image (tag or sha256 digest) the new pods must run" },
    "flux-kustomization": { type: "string", value: "NS/NAME", describe: "wait until this Flux Kustomization applied --revision", defaultText: "rollout.flux.kustomization in slipway.yaml" },
    "flux-helmrelease": { type: "string", value: "NS/NAME", describe: "and until this HelmRelease released it (with --flux-kustomization)", defaultText: "rollout.flux.helmRelease in slipway.yaml" },
    "argocd-app": { type: "string", value: "NS/NAME", describe: "wait until this Argo CD Application synced --revision", defaultText: "rollout.argocd.application in slipway.yaml" },
    revision: { type: "string", value: "SHA", describe: "the GitOps commit the controller must have applied" },
    "set-images": {
      type: "boolean",
      describe:
        "first set the Deployments' containers of each --image repository to that image (kubectl set image), then verify: the fallback when the GitOps controller is down; restore Git too, or the controller reverts it when it returns",
    },
    reconcile: {
      type: "boolean",
      describe: "ask Flux to reconcile (reconcile.fluxcd.io/requestedAt) or Argo CD to refresh (argocd.argoproj.io/refresh: normal) now instead of at its next interval",
      defaultText: "rollout.flux.reconcile or rollout.argocd.refresh in slipway.yaml, else off",
    },
    "argocd-sync": {
      type: "boolean",
      describe:
        "request a sync of --revision (the Application's operation, as `argocd app sync --revision`) for an Application without automated sync; an operation in progress is never overwritten; needs a full commit SHA",
      defaultText: "rollout.argocd.sync in slipway.yaml, else off",
    },
    timeout: { type: "string", value: "DURATION", describe: "give up after this long (exit 3), e.g. 90s, 10m, 1h30m", defaultText: `rollout.timeout in slipway.yaml, else ${DEFAULT_TIMEOUT}` },
    diagnostics: { type: "string", value: "DIR", describe: "on failure, write events, pod states and container logs here" },
    "azure-identity": { type: "string", value: IDENTITY_MODES.join("|"), describe: "get an AKS (Entra ID) token this way for a kubelogin kubeconfig", defaultText: "detected from the CI environment when the kubeconfig uses kubelogin" },
    config: { type: "string" },
    json: { type: "boolean" },
  },
  examples: [
    "slipway rollout verify -n shop --deployment api --deployment worker --image myacr.azurecr.io/shop/api=sha-0123456789ab",
    "KUBECONFIG=~/.kube/aks slipway rollout verify -n shop -l app.kubernetes.io/part-of=shop --flux-kustomization flux-system/apps --revision $GITOPS_SHA --timeout 5m --json",
  ],
  async run({ values, io }) {
    const problems: string[] = [];
    const bad = (flag: string, value: string, expected: string): void => {
      problems.push(`${flag} ${JSON.stringify(value)}: expected ${expected}`);
    };
    if (values.kubeconfig === undefined) problems.push("--kubeconfig FILE is required (or KUBECONFIG in the environment)");
    // kubectl merges a KUBECONFIG list; we read one file and say so rather than pick one silently.
    else if (values.kubeconfig.includes(delimiter)) bad("--kubeconfig", values.kubeconfig, `one file: KUBECONFIG lists several (separated by "${delimiter}"); pass --kubeconfig FILE`);
    if (values.namespace === undefined) problems.push("--namespace NS is required");
    else if (!DNS_LABEL.test(values.namespace)) bad("--namespace", values.namespace, "a namespace name (lowercase letters, digits, '-')");
    const names = values.deployment;
    const named = names !== undefined || values.statefulset !== undefined || values.daemonset !== undefined;
    if (!named && values.selector === undefined) problems.push("give the workloads: --deployment, --statefulset, --daemonset NAME (each repeatable) or --selector LABELS");
    if (named && values.selector !== undefined) problems.push("give either names (--deployment, --statefulset, --daemonset) or --selector, not both");
    for (const n of names ?? []) if (!DNS_SUBDOMAIN.test(n)) bad("--deployment", n, "a Deployment name");
    for (const n of values.statefulset ?? []) if (!DNS_LABEL.test(n)) bad("--statefulset", n, "a StatefulSet name (a DNS label: its pods are named NAME-0, NAME-1...)");
    for (const n of values.daemonset ?? []) if (!DNS_SUBDOMAIN.test(n)) bad("--daemonset", n, "a DaemonSet name");
    if (values.selector !== undefined && (!values.selector.trim() || !SELECTOR.test(values.selector))) bad("--selector", values.selector, "a label selector such as `app=api,tier!=batch`");
    const images: ImageExpectation[] = [];
    for (const spec of values.image ?? []) {
      const parsed = parseImageExpectation(spec);
      if (parsed) images.push(parsed);
      else bad("--image", spec, "IMAGE=TAG, e.g. `myacr.azurecr.io/api=sha-0123456789ab` or `api=sha256:<64 hex>`");
    }
    if (values["set-images"]) {
      if (images.length === 0) problems.push("--set-images needs --image IMAGE=TAG (or =sha256:DIGEST): the images to set");
      if (values.statefulset !== undefined || values.daemonset !== undefined) problems.push("--set-images sets Deployments only: name them with --deployment (or --selector)");
    }
    if (values.revision !== undefined && !SHA.test(values.revision)) bad("--revision", values.revision, "a git commit SHA (7 to 64 hex digits)");
    if (values["flux-kustomization"] !== undefined && !OBJECT_REF_PATTERN.test(values["flux-kustomization"])) bad("--flux-kustomization", values["flux-kustomization"], "NAMESPACE/NAME");
    if (values["argocd-app"] !== undefined && !OBJECT_REF_PATTERN.test(values["argocd-app"])) bad("--argocd-app", values["argocd-app"], "NAMESPACE/NAME");
    if (values["flux-helmrelease"] !== undefined && !OBJECT_REF_PATTERN.test(values["flux-helmrelease"])) bad("--flux-helmrelease", values["flux-helmrelease"], "NAMESPACE/NAME");
    if (values["flux-kustomization"] !== undefined && values["argocd-app"] !== undefined) problems.push("give either --flux-kustomization or --argocd-app, not both");
    const identityText = values["azure-identity"];
    const identity = identityText === undefined ? undefined : parseMode(identityText, IDENTITY_MODES);
    if (identityText !== undefined && identity === undefined) bad("--azure-identity", identityText, IDENTITY_MODES.join(" | "));
    const progressSetting = parseProgressSetting(io.env.SLIPWAY_PROGRESS);
    if (progressSetting === undefined) bad("SLIPWAY_PROGRESS", io.env.SLIPWAY_PROGRESS ?? "", PROGRESS_SETTINGS.join(" | "));
    if (values.timeout !== undefined && parseDuration(values.timeout) === null) bad("--timeout", values.timeout, `a duration such as \`90s\`, \`10m\` or \`1h30m\`, longer than zero and at most ${MAX_DURATION_TEXT}`);

    // slipway.yaml `rollout:` supplies defaults; flags win.
    const settings = commandConfig(io, values.config).config.rollout ?? {};
    let gitops: GitopsTarget | undefined;
    const fluxRef = values["flux-kustomization"] ?? (values["argocd-app"] === undefined ? settings.flux?.kustomization : undefined);
    const argoRef = values["argocd-app"] ?? (values["flux-kustomization"] === undefined ? settings.argocd?.application : undefined);
    if (fluxRef && OBJECT_REF_PATTERN.test(fluxRef)) gitops = { kind: "flux", ...splitRef(fluxRef) };
    else if (argoRef && OBJECT_REF_PATTERN.test(argoRef)) gitops = { kind: "argocd", ...splitRef(argoRef) };
    if (gitops && values.revision === undefined) problems.push(`--revision SHA is required to check that ${gitops.kind === "flux" ? "Flux" : "Argo CD"} applied the commit`);
    if (values.revision !== undefined && !gitops) problems.push("--revision needs --flux-kustomization or --argocd-app (or rollout.flux / rollout.argocd in slipway.yaml)");
    if (values.reconcile && !gitops) problems.push("--reconcile needs --flux-kustomization or --argocd-app (or rollout.flux / rollout.argocd in slipway.yaml)");
    const argoSync = values["argocd-sync"] ?? (gitops?.kind === "argocd" ? settings.argocd?.sync : undefined) ?? false;
    if (values["argocd-sync"] && gitops?.kind !== "argocd") problems.push("--argocd-sync needs --argocd-app NS/NAME (or rollout.argocd.application in slipway.yaml)");
    // argo-cd's API server takes a 40-hex SHA as is and resolves anything else with ls-remote (server/application/application.go resolveRevision): we have no remote to ask.
    if (argoSync && gitops?.kind === "argocd" && values.revision !== undefined && !FULL_SHA.test(values.revision)) {
      bad("--revision", values.revision, "the full commit SHA (40 or 64 hex digits) for --argocd-sync: Argo CD syncs exactly that commit");
    }
    const helmRef = values["flux-helmrelease"] ?? (values["argocd-app"] === undefined ? settings.flux?.helmRelease : undefined);
    // A HelmRelease's revisions are chart versions, not our SHA: the Kustomization that applies it says when
    // our commit reached it (see helmReleaseApplied).
    if (helmRef !== undefined && gitops?.kind !== "flux") problems.push("--flux-helmrelease needs the Flux Kustomization that applies it: --flux-kustomization NS/NAME (or rollout.flux.kustomization in slipway.yaml)");
    const helmRelease = helmRef !== undefined && OBJECT_REF_PATTERN.test(helmRef) ? splitRef(helmRef) : undefined;
    if (problems.length > 0) throw rolloutBadInput(problems);
    // Loaded once the flags are good, not with this module: `--help` needs none of them, and
    // @kubernetes/client-node and @azure/identity alone cost more than the rest of the CLI's start-up (issue 16).
    const [{ credentialFor, injectAksToken, kubeloginServerId, selectIdentityMode }, { collectDiagnostics, writeDiagnostics }, { kubeClients, loadKubeConfig }, { verifyRollout }] = await Promise.all([
      import("./aks.js"),
      import("./diagnostics.js"),
      import("./kube.js"),
      import("./verify.js"),
    ]);
    if (values.diagnostics !== undefined) checkOutputDir("--diagnostics", values.diagnostics, resolve(io.cwd, values.diagnostics));

    const timeoutText = values.timeout ?? settings.timeout ?? DEFAULT_TIMEOUT;
    const kc = loadKubeConfig(resolve(io.cwd, values.kubeconfig as string), values.context);
    const mode = selectIdentityMode(identity, io.env, kubeloginServerId(kc.getCurrentUser()) !== null);
    if (mode !== null) await injectAksToken(kc, await credentialFor(mode, io.env), mode);
    const clients = kubeClients(kc);
    if (values["set-images"]) {
      // The GitOps controller is down (a rollback's --kubectl-undo): the images go straight into the Deployments.
      const { setImages } = await import("./set-images.js");
      const changed = await setImages(clients, values.namespace as string, { ...(names ? { deployments: names } : {}), ...(values.selector ? { selector: values.selector } : {}) }, images);
      for (const c of changed) io.stderr(`set image: deployment/${c.deployment} container ${c.container}: ${c.old} -> ${c.new}\n`);
      if (changed.length === 0) io.stderr("set image: every Deployment already runs these images\n");
    }
    const namespace = values.namespace as string;

    // Every frame goes through io.stderr, the masked stream, like every other byte the CLI writes.
    const display = progressDisplay(
      {
        isTTY: io.stderrIsTTY,
        get columns() {
          // A pseudo-terminal of unknown size says 0.
          return process.stderr.columns || Number(io.env.COLUMNS) || undefined;
        },
        write: io.stderr,
      },
      io.env,
      { setting: progressSetting, json: values.json === true },
    );
    let result: VerifyResult;
    try {
      result = await verifyRollout(
        clients,
        {
          namespace,
          // With names, only the kinds named are watched; `[]` for the others would watch them for nothing.
          deployments: names,
          statefulSets: values.statefulset,
          daemonSets: values.daemonset,
          selector: values.selector,
          images,
          gitops,
          helmRelease,
          revision: values.revision,
          sync: argoSync,
          reconcile: values.reconcile ?? (gitops?.kind === "argocd" ? settings.argocd?.refresh : settings.flux?.reconcile) ?? false,
          timeoutMs: parseDuration(timeoutText) as number,
          thresholds: {
            oomKilledRestarts: settings.failOn?.oomKilledRestarts ?? DEFAULT_THRESHOLDS.oomKilledRestarts,
            crashLoopRestarts: settings.failOn?.crashLoopRestarts ?? DEFAULT_THRESHOLDS.crashLoopRestarts,
            unschedulableGraceMs: settings.failOn?.unschedulableGrace === undefined ? DEFAULT_THRESHOLDS.unschedulableGraceMs : (parseDuration(settings.failOn.unschedulableGrace) as number),
          },
        },
        { progress: display.line, update: display.update },
      );
    } finally {
      // The lines are erased; the verdict takes their place.
      display.end();
    }

    let written: { json: string; text: string } | undefined;
    // `unknown`: the API could not be read, so neither can the diagnostics.
    if (result.verdict !== "healthy" && result.verdict !== "unknown" && values.diagnostics !== undefined) {
      const bundle = await collectDiagnostics(clients, result, settings.logLines ?? DEFAULT_LOG_LINES);
      written = writeDiagnostics(resolve(io.cwd, values.diagnostics), bundle);
      io.stderr(`diagnostics: ${written.text} and ${written.json}\n`);
    }
    if (values.json) printJson(io, report(result, written));
    if (result.verdict === "healthy") {
      if (!values.json) io.stdout(`rollout ${verdict(painter(io), "healthy")} in ${formatDuration(result.elapsedMs)}: ${result.workloads.map((w) => `${w.kind}/${w.name}`).join(", ")}\n`);
      return EXIT.ok;
    }
    const errors: Record<Exclude<VerifyResult["verdict"], "healthy">, () => SlipwayError> = {
      failed: () => rolloutFailed(namespace, result.reasons),
      paused: () => rolloutPaused(namespace, result.workloads.filter((w) => w.state === "paused").map((w) => w.name), result.reasons),
      unverifiable: () => rolloutUnverifiable(namespace, result.reasons),
      unknown: () => rolloutUnknown(namespace, timeoutText, result.reasons),
      timeout: () => rolloutTimedOut(namespace, timeoutText, result.reasons),
    };
    const error = errors[result.verdict]();
    printError(io, values.json, error);
    return error.exitCode;
  },
});

/** The --json report: verdicts and reasons only; the raw objects (which hold env values) stay out. */
function report(result: VerifyResult, diagnostics?: { json: string; text: string }): Record<string, unknown> {
  return {
    verdict: result.verdict,
    namespace: result.namespace,
    elapsedMs: result.elapsedMs,
    gitops: result.gitops,
    helmRelease: result.helmRelease,
    workloads: result.workloads,
    // The shape before StatefulSets and DaemonSets were verified, kept for readers of `deployments`.
    deployments: result.workloads.filter((w) => w.kind === "deployment").map(({ name, state, message }) => ({ name, state, message })),
    problems: result.problems,
    reasons: result.reasons,
    diagnostics,
  };
}
