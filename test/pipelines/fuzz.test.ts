import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseConfig } from "../../pipelines/src/config/load.js";
import { isSlipwayError } from "../../pipelines/src/errors.js";
import { FORMATS } from "../../pipelines/src/gitops/formats/registry.js";
import type { FormatChange } from "../../pipelines/src/gitops/types.js";
import { PARSERS } from "../../pipelines/src/scan/parsers/index.js";

/**
 * Fuzzing the parsers of what users and tools hand us (slipway.yaml, manifests, scanner reports): whatever
 * the input, the answer is a result or a coded SlipwayError, never a crash (TypeError, RangeError, stack
 * overflow) that would surface as SLIPWAY_INTERNAL, exit 1: for `scan gate` that reads as "gate failed".
 */
const RUNS = { numRuns: 200, seed: 20_261_206 };

/** Runs `f`; a thrown non-SlipwayError fails the property with its name and message. */
function codedOrValue(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (error) {
    if (isSlipwayError(error)) return true;
    throw new Error(`not a SlipwayError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

/** Lines YAML parsers trip on: anchors, aliases, merge keys, tags, complex keys, flow collections, documents. */
const YAML_TOKENS = [
  "services:", "  - name: api", "  - api", "    path: services/api", "gitops:", "  repo: x", "  helm:", "    images:",
  "      - image: a.b", "environments:", "  dev:", "    registry: acr.azurecr.io", "scan:", "  exceptions:",
  "    - id: CVE-1", "      owner: me", "      expires: 2020-01-01", "a: &a {x: 1}", "b: *a", "<<: *a", "c: !!binary aGk=",
  "? [a, b]", ": c", "---", "...", "%YAML 1.2", "d: {", "e: [", "- - - -", "f: |", "  text", "g: >-", "h: 'un", 'i: "\\u00', "\t", "",
  "image: nginx:1.25", "  image: acr.azurecr.io/api:1.0 # {\"$imagepolicy\": \"flux-system:api\"}", "kind: Deployment",
  "apiVersion: apps/v1", "metadata:", "  name: api", "spec:", "  template:", "    spec:", "      containers:",
  "        - name: api", "          image: acr.azurecr.io/api:sha-0123456789ab", "images:", "  - name: api", "    newTag: 1.2",
  "    newName: acr.azurecr.io/api", "    digest: sha256:abc", "kind: HelmRelease", "  values:", "    image:", "      repository: api",
  "      tag: \"1.0\"", "j: &j [*j]", "k: !custom x", "1e999: 1", "l: 0x1F", "m: .nan", "n: ~",
];

const yamlish = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 30 }).map((lines) => lines.join("\n"));
const yamlText = fc.oneof(yamlish, fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)));

describe("fuzz: pipelines/src/config/load parseConfig", () => {
  it("returns a config or throws a coded error", () => {
    fc.assert(fc.property(yamlText, (text) => codedOrValue(() => parseConfig(text, "slipway.yaml"))), RUNS);
  });
});

const imageName = fc.constantFrom("api", "acr.azurecr.io/api", "nginx", "docker.io/library/nginx", "", "a:b", "x/y/z");
const tag = fc.oneof(fc.constantFrom("1.0", "sha-0123456789ab", "latest", "1.20", "on", ""), fc.string({ maxLength: 12 }));
const digest = fc.option(fc.constantFrom(`sha256:${"a".repeat(64)}`, "sha256:short", ""), { nil: undefined });
const change = (path: string) =>
  fc.record({
    images: fc.array(fc.record({ image: imageName, tag, digest }), { maxLength: 3 }),
    policies: fc.array(fc.record({ policy: fc.constantFrom("flux-system:api", "x:y", ""), image: imageName, tag, digest }), { maxLength: 2 }),
    keyPaths: fc.array(fc.record({ image: fc.option(fc.constantFrom("image", "a.b", "image.repository", ""), { nil: undefined }), repository: fc.option(fc.constantFrom("image.repository", "x"), { nil: undefined }), tag: fc.option(fc.constantFrom("image.tag", "y", "a.b.c"), { nil: undefined }) }), { maxLength: 2 }),
  }).map(({ images, policies, keyPaths }): FormatChange => ({
    path,
    images: images.map(({ digest: d, ...rest }) => (d === undefined ? rest : { ...rest, digest: d })),
    policies: policies.map(({ digest: d, ...rest }) => (d === undefined ? rest : { ...rest, digest: d })),
    options: { helmKeyPaths: keyPaths.map((k) => Object.fromEntries(Object.entries(k).filter(([, v]) => v !== undefined))) },
  }));

describe("fuzz: pipelines/src/gitops/formats extract and update", () => {
  for (const [name, format] of FORMATS) {
    for (const path of ["deploy/kustomization.yaml", "charts/api/values.yaml", "apps/api.yaml"]) {
      it(`${name} on ${path}: a record or a coded error`, () => {
        fc.assert(
          fc.property(yamlText, change(path), (content, c) =>
            codedOrValue(() => {
              format.extract(content, path, c.options);
              format.update(content, c);
            }),
          ),
          { ...RUNS, numRuns: 60 },
        );
      });
    }
  }
});

/** Values in the shapes scanner reports hold, placed at the keys they use. */
const reportValue = fc.oneof(
  fc.constantFrom(null, "", "CRITICAL", "HIGH", "UNKNOWN", "moderate", "GHSA-xxxx", "CVE-2024-1", 0, -1, 1e308, true, [], {}),
  fc.string({ maxLength: 10 }),
);
const reportKeys = [
  "SchemaVersion", "Results", "Target", "Class", "Type", "Vulnerabilities", "VulnerabilityID", "PkgName", "InstalledVersion",
  "FixedVersion", "Severity", "Status", "Secrets", "RuleID", "StartLine", "Misconfigurations", "ArtifactName",
  "auditReportVersion", "vulnerabilities", "via", "severity", "name", "range", "fixAvailable", "advisories", "metadata", "isDirect", "nodes", "effects",
  "results", "packages", "package", "ecosystem", "version", "groups", "ids", "max_severity", "source", "path", "id", "aliases", "affected", "database_specific",
  "DetectorName", "DetectorType", "Verified", "Raw", "Redacted", "SourceMetadata", "Data", "Git", "Filesystem", "file", "line", "commit", "ExtraData", "VerificationError",
];
const reportObject = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small", maxDepth: 5 }, reportValue, fc.array(tie("node"), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...reportKeys), tie("node"), { maxKeys: 6 })),
})).node;
const reportText = fc.oneof(
  reportObject.map((v) => JSON.stringify(v)),
  fc.array(reportObject, { maxLength: 3 }).map((vs) => vs.map((v) => JSON.stringify(v)).join("\n")),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);

describe("fuzz: pipelines/src/scan/parsers", () => {
  for (const [tool, parse] of PARSERS) {
    it(`${tool}: findings or a coded error`, () => {
      fc.assert(fc.property(reportText, (text) => codedOrValue(() => parse({ text, file: `${tool}.json` }))), RUNS);
    });
  }
});

describe("fuzz: deep nesting is refused as a coded error, not a stack overflow", () => {
  it.each([["slipway.yaml", () => parseConfig(`${"[".repeat(20_000)}${"]".repeat(20_000)}`, "slipway.yaml")]])("%s", (_name, f) => {
    expect(codedOrValue(f)).toBe(true);
  });
  it.each([...PARSERS.keys()])("%s report nested 20 000 deep", (tool) => {
    const parse = PARSERS.get(tool);
    expect(codedOrValue(() => parse?.({ text: `${"[".repeat(20_000)}${"]".repeat(20_000)}`, file: "deep.json" }))).toBe(true);
  });
});
