import { describe, expect, it } from "vitest";
import type { Plan, PlannedService } from "../../.dagger/src/plan.js";
import {
  dockerfileInContext,
  ociLabels,
  parsePlan,
  selectServices,
  serviceBuildArgs,
  stripCredentials,
} from "../../.dagger/src/plan.js";

function service(name: string, extra: Partial<PlannedService> = {}): PlannedService {
  return {
    name,
    path: `services/${name}`,
    dockerfile: `services/${name}/Dockerfile`,
    context: ".",
    packageName: `@slipway/${name}`,
    packageManager: "npm",
    scripts: { lint: true, test: true, build: true },
    dependsOn: [],
    ...extra,
  };
}

function plan(extra: Partial<Plan> = {}): Plan {
  return {
    source: "/src",
    base: "origin/main",
    services: [service("api"), service("worker"), service("billing")],
    affected: ["api", "billing"],
    reasons: { api: ["services/api/src/x.ts"], billing: ["package-lock.json"] },
    warnings: [],
    ...extra,
  };
}

describe(".dagger/src/plan parsePlan", () => {
  it("reads the documented plan JSON, dropping fields the module does not use", () => {
    const documented: Plan = {
      source: "/src",
      base: "origin/main",
      services: [service("api", { scripts: { lint: true, test: true, build: false }, dependsOn: ["@slipway/shared"] })],
      affected: ["api"],
      reasons: { api: ["services/api/src/x.ts"] },
      warnings: ['service "api": services/api/Dockerfile:3 COPY "src" does not exist in the build context "."; set `context` for it in slipway.yaml, or fix the Dockerfile'],
    };
    const text = JSON.stringify({ ...documented, changed: ["services/api/src/x.ts"] });
    expect(parsePlan(text)).toEqual(documented);
    // A plan from a CLI that predates warnings still reads, with none.
    const { warnings: _none, ...older } = documented;
    expect(parsePlan(JSON.stringify(older)).warnings).toEqual([]);
  });

  it("rejects output that is not JSON, quoting its start", () => {
    expect(() => parsePlan("SLIPWAY_CONFIG_INVALID: ...\n")).toThrow(/^SLIPWAY_PLAN_INVALID: .*did not print JSON.*"SLIPWAY_CONFIG_INVALID: \.\.\."/s);
  });

  it("reports every problem at once", () => {
    const text = JSON.stringify({
      source: 1,
      services: [{ name: "api", path: "", dockerfile: "x", context: ".", scripts: {} }, "worker"],
      affected: ["api", "ghost"],
    });
    expect(() => parsePlan(text)).toThrow(
      [
        "SLIPWAY_PLAN_INVALID: the plan printed by `slipway plan --json` is not usable:",
        "  - source: expected a string",
        "  - services[0].path: expected a non-empty string",
        "  - services[1]: expected an object",
      ].join("\n"),
    );
  });

  it("rejects an affected name that is not a planned service", () => {
    const text = JSON.stringify({ ...plan(), affected: ["api", "ghost"] });
    expect(() => parsePlan(text)).toThrow('affected: "ghost" is not one of the planned services');
  });
});

describe(".dagger/src/plan selectServices", () => {
  it("ci: the affected services, and the others as unaffected", () => {
    const { selected, unaffected } = selectServices(plan(), "affected");
    expect(selected.map((s) => s.name)).toEqual(["api", "billing"]);
    expect(unaffected).toEqual(["worker"]);
  });

  it("ci with services: only those, unaffected ones listed as such", () => {
    const { selected, unaffected } = selectServices(plan(), "affected", ["worker", "api"]);
    expect(selected.map((s) => s.name)).toEqual(["api"]);
    expect(unaffected).toEqual(["worker"]);
  });

  it("test and build: every planned service, whatever is affected", () => {
    expect(selectServices(plan(), "all").selected.map((s) => s.name)).toEqual(["api", "worker", "billing"]);
    expect(selectServices(plan(), "all", ["worker"]).selected.map((s) => s.name)).toEqual(["worker"]);
  });

  it("rejects unknown names, listing the known ones", () => {
    expect(() => selectServices(plan(), "affected", ["api", "apii", "wrker"])).toThrow(
      'SLIPWAY_UNKNOWN_SERVICE: unknown services "apii", "wrker"\nKnown services: api, worker, billing.',
    );
  });
});

describe(".dagger/src/plan dockerfileInContext", () => {
  it.each([
    [".", "services/api/Dockerfile", "services/api/Dockerfile"],
    ["services/api", "services/api/Dockerfile", "Dockerfile"],
    ["services/api/", "services/api/docker/Dockerfile.prod", "docker/Dockerfile.prod"],
    ["./services", "services/api/Dockerfile", "api/Dockerfile"],
  ])("context %s, dockerfile %s -> %s", (context, dockerfile, expected) => {
    expect(dockerfileInContext(service("api", { context, dockerfile }))).toBe(expected);
  });

  it("rejects a Dockerfile outside its context", () => {
    expect(() => dockerfileInContext(service("api", { context: "services/api", dockerfile: "docker/api.Dockerfile" }))).toThrow(
      'SLIPWAY_SERVICE_INVALID: service "api": Dockerfile docker/api.Dockerfile is not inside its build context services/api',
    );
  });
});

describe(".dagger/src/plan labels and build args", () => {
  it("labels with what the plan knows, leaving out what it does not", () => {
    expect(ociLabels(plan(), service("api"))).toEqual([{ name: "org.opencontainers.image.title", value: "api" }]);
    const full = plan({
      revision: {
        sha: "0123456789abcdef0123456789abcdef01234567",
        committedAt: "2026-11-22T19:00:00Z",
        sourceUrl: "https://x-access-token:ghs_secret@github.com/acme/shop.git",
      },
    });
    expect(ociLabels(full, service("api", { version: "1.4.0" }))).toEqual([
      { name: "org.opencontainers.image.title", value: "api" },
      { name: "org.opencontainers.image.version", value: "1.4.0" },
      { name: "org.opencontainers.image.revision", value: "0123456789abcdef0123456789abcdef01234567" },
      { name: "org.opencontainers.image.created", value: "2026-11-22T19:00:00Z" },
      { name: "org.opencontainers.image.source", value: "https://github.com/acme/shop.git" },
    ]);
  });

  it.each([
    ["https://user:token@dev.azure.com/org/p/_git/r", "https://dev.azure.com/org/p/_git/r"],
    ["https://github.com/acme/shop.git", "https://github.com/acme/shop.git"],
    ["git@github.com:acme/shop.git", "git@github.com:acme/shop.git"],
  ])("never keeps credentials in a source URL: %s", (url, expected) => {
    expect(stripCredentials(url)).toBe(expected);
  });

  it("passes the service's identity as build args", () => {
    expect(serviceBuildArgs(service("api"))).toEqual([
      { name: "SERVICE_NAME", value: "api" },
      { name: "SERVICE_PATH", value: "services/api" },
      { name: "SERVICE_PACKAGE", value: "@slipway/api" },
    ]);
  });
});
