import { describe, expect, it } from "vitest";
import {
  bumpCommand,
  digestOf,
  identityEnv,
  migrateCommand,
  parseAcrCheck,
  parseAcrTags,
  parseBump,
  parseRollout,
  ROLLOUT_VERDICT_CODES,
  rolloutCommand,
  rolloutRollsBack,
  rolloutVerdictLine,
} from "../../.dagger/src/release-cli.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe(".dagger/src/release-cli identity", () => {
  it("passes only the plain ids and URLs that were given, under the names the CLI reads", () => {
    expect(identityEnv({ tenantId: "t", clientId: "", oidcRequestUrl: "https://token.actions/x", username: undefined })).toEqual([
      ["AZURE_TENANT_ID", "t"],
      ["ACTIONS_ID_TOKEN_REQUEST_URL", "https://token.actions/x"],
    ]);
  });
});

describe(".dagger/src/release-cli publish", () => {
  it("reads acr tags and refuses output missing what publish needs", () => {
    const tags = { repository: "shop/api", tags: ["sha-1a2b3c4d5e6f"], immutable: ["sha-1a2b3c4d5e6f"], refs: ["r.azurecr.io/shop/api:sha-1a2b3c4d5e6f"], lock: false, annotations: { a: "b" } };
    expect(parseAcrTags(["slipway", "acr", "tags"], JSON.stringify(tags))).toEqual(tags);
    expect(() => parseAcrTags(["slipway", "acr", "tags"], JSON.stringify({ ...tags, refs: [], lock: "no" }))).toThrow(/refs: expected[\s\S]*lock: expected a boolean/);
  });

  it("reads acr check: a re-run reuses the published digest, and never without one", () => {
    expect(parseAcrCheck(["slipway", "acr", "check"], JSON.stringify({ publish: false, digest: DIGEST }))).toEqual({ publish: false, digest: DIGEST });
    expect(() => parseAcrCheck(["slipway", "acr", "check"], JSON.stringify({ publish: false, digest: null }))).toThrow("publish is false but no digest to reuse");
  });

  it("takes the digest from the engine's publish result", () => {
    expect(digestOf(`r.azurecr.io/shop/api:sha-1@${DIGEST}`)).toBe(DIGEST);
    expect(() => digestOf("r.azurecr.io/shop/api:sha-1")).toThrow("SLIPWAY_ACR_PUBLISH");
  });
});

describe(".dagger/src/release-cli migrate", () => {
  it.each([
    [{ action: "run", service: "api", dataSource: "/src/services/api/dist/data-source.js" }, ["--data-source", "/src/services/api/dist/data-source.js"], ["--json"]],
    [{ action: "run", service: "api" }, [], ["--json"]],
    [{ action: "run", service: "api", dataSource: "/d.js", to: "AddUsers1700000000000", dryRun: true }, ["--data-source", "/d.js"], ["--to", "AddUsers1700000000000", "--dry-run", "--json"]],
    [{ action: "revert", service: "api", count: 2 }, [], ["--count", "2", "--json"]],
  ])("%o", (input, dataSource, tail) => {
    const command = migrateCommand("/src", input);
    // The service always: slipway.yaml's migrate.services.<name> applies; --data-source only when given.
    expect(command).toEqual(["slipway", "migrate", input.action, "--service", "api", ...dataSource, "--source", "/src", ...tail]);
  });

  it("refuses an unknown action and status with changing options before any container runs", () => {
    expect(() => migrateCommand("/src", { action: "drop", service: "api" })).toThrow('SLIPWAY_USAGE: action "drop" is not one of status, run, revert');
    expect(() => migrateCommand("/src", { action: "status", service: "api", to: "X" })).toThrow("status takes no to");
  });
});

describe(".dagger/src/release-cli gitops", () => {
  it("builds commit-push with one --set per image and --json", () => {
    expect(
      bumpCommand({ repository: "https://github.com/acme/gitops.git", branch: "main", set: ["r.io/api=sha-1", "r.io/worker=sha-1"], path: "clusters/prod", sourceSha: "abc1234" }),
    ).toEqual([
      "slipway", "gitops", "commit-push", "--repo", "https://github.com/acme/gitops.git", "--branch", "main", "--path", "clusters/prod",
      "--set", "r.io/api=sha-1", "--set", "r.io/worker=sha-1", "--source-sha", "abc1234", "--json",
    ]);
  });

  it("refuses a URL with credentials without echoing them, and a bump with nothing to set", () => {
    let message = "";
    try {
      bumpCommand({ repository: "https://x-access-token:ghp_SECRET@github.com/acme/gitops.git", branch: "main", set: ["a=b"] });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/carries credentials/);
    expect(message).not.toContain("ghp_SECRET");
    expect(() => bumpCommand({ repository: "https://github.com/acme/gitops.git", branch: "main" })).toThrow("at least one set");
  });

  it("returns the commit of the push", () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    expect(parseBump(["slipway", "gitops", "commit-push"], JSON.stringify({ branch: "main", commit: sha, pushed: true, attempts: 1, record: {} })).commit).toBe(sha);
    expect(() => parseBump(["slipway", "gitops", "commit-push"], JSON.stringify({ branch: "main", commit: "HEAD", pushed: true }))).toThrow("commit: expected a full commit SHA");
  });
});

describe(".dagger/src/release-cli rollout", () => {
  it("builds rollout verify with the mounted kubeconfig, the diagnostics folder and only the given options", () => {
    expect(rolloutCommand({ namespace: "shop", deployments: ["api", "worker"], images: ["r.io/api=sha-1"], fluxKustomization: "flux-system/shop", reconcile: true, revision: "abc1234" })).toEqual([
      "slipway", "rollout", "verify", "--kubeconfig", "/tmp/slipway-secrets/kubeconfig", "--namespace", "shop",
      "--deployment", "api", "--deployment", "worker", "--image", "r.io/api=sha-1",
      "--flux-kustomization", "flux-system/shop", "--reconcile", "--revision", "abc1234",
      "--diagnostics", "/tmp/slipway-rollout-diagnostics", "--json",
    ]);
  });

  it("accepts a verdict only when it agrees with the exit code", () => {
    const command = ["slipway", "rollout", "verify"];
    expect(parseRollout(command, 0, JSON.stringify({ verdict: "healthy", namespace: "shop" })).verdict).toBe("healthy");
    expect(parseRollout(command, 1, JSON.stringify({ verdict: "failed", namespace: "shop" })).verdict).toBe("failed");
    expect(() => parseRollout(command, 0, JSON.stringify({ verdict: "failed", namespace: "shop" }))).toThrow("verdict is failed but the command exited with 0");
  });

  // Issue 14: a verdict that only means "could not look" must never roll a healthy release back.
  it("reads exit 4 (could not check) as a verdict, and rolls back only on a failed verdict", () => {
    const command = ["slipway", "rollout", "verify"];
    expect(ROLLOUT_VERDICT_CODES).toContain(4);
    expect(parseRollout(command, 4, JSON.stringify({ verdict: "unknown", namespace: "shop" })).verdict).toBe("unknown");
    expect([
      [1, "failed"],
      [1, "paused"],
      [3, "timeout"],
      [4, "unknown"],
    ].map(([code, verdict]) => `${verdict}: ${rolloutRollsBack(code as number, verdict as string)}`)).toEqual(["failed: true", "paused: false", "timeout: false", "unknown: false"]);
    expect(rolloutVerdictLine("unknown")).toBe("SLIPWAY_ROLLOUT_VERDICT=unknown");
  });
});
