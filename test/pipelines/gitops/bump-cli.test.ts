import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { removeTree, tempTree } from "../../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) removeTree(dirs.pop() as string);
});
function tree(files: Record<string, string>): string {
  const dir = tempTree(files, "slipway-bump-");
  dirs.push(dir);
  return dir;
}
function cwd(): string {
  const dir = mkdtempSync(join(tmpdir(), "slipway-cwd-"));
  dirs.push(dir);
  return dir;
}

const POD = (image: string): string => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`;

describe("pipelines/src/gitops/commands (slipway gitops bump)", () => {
  it("prints the change record file -> object -> old/new, and --json gives the same record", async () => {
    const dir = tree({ "apps/a.yaml": POD("r.io/api:1.0") });
    const text = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=1.1", "--dry-run"], cwd());
    expect(text.code).toBe(0);
    expect(text.stdout).toBe("apps/a.yaml\n  Pod/p spec.containers[0].image: r.io/api:1.0 -> r.io/api:1.1\nwould change 1 field in 1 file\n");
    const json = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=1.1", "--json"], cwd());
    expect(JSON.parse(json.stdout)).toEqual({
      schemaVersion: 1,
      dryRun: false,
      written: ["apps/a.yaml"],
      record: {
        files: { "apps/a.yaml": { "Pod/p": [{ field: "spec.containers[0].image", format: "plain", image: "r.io/api", old: "r.io/api:1.0", new: "r.io/api:1.1" }] } },
        changed: ["r.io/api=1.1"],
        alreadyAt: [],
        missing: [],
        unedited: [],
      },
    });
  });

  it("--path limits the edit to a folder", async () => {
    const dir = tree({ "prod/a.yaml": POD("r.io/api:1.0"), "staging/a.yaml": POD("r.io/api:1.0") });
    expect((await cli(["gitops", "bump", "--repo", dir, "--path", "staging", "--set", "r.io/api=2.0"], cwd())).code).toBe(0);
    expect(readFileSync(join(dir, "staging/a.yaml"), "utf8")).toBe(POD("r.io/api:2.0"));
    expect(readFileSync(join(dir, "prod/a.yaml"), "utf8")).toBe(POD("r.io/api:1.0"));
  });

  it("a malformed file stops the bump before anything is written (exit 2, the file named)", async () => {
    const dir = tree({ "a-good.yaml": POD("r.io/api:1.0"), "b-bad.yaml": "kind: Pod\nspec: [r.io/api:1.0\n" });
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0"], cwd());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_YAML: b-bad\.yaml is not valid YAML: line \d+, column \d+: /);
    expect(readFileSync(join(dir, "a-good.yaml"), "utf8")).toBe(POD("r.io/api:1.0"));
  });

  // Duplicate keys as people write them by mistake: a second `image:` pasted under the first (Kubernetes,
  // through sigs.k8s.io/yaml, silently keeps the last), and a values override repeated further down.
  it.each([
    ["apps/pod.yaml", `${POD("r.io/api:1.0")}    image: r.io/api:0.9\n`, 'line 9, column 5: duplicate key "image" in one mapping'],
    ["values-prod.yaml", 'image:\n  repository: r.io/api\n  tag: "1.0"\n  pullPolicy: Always\n  "tag": "0.9"\n', "line 5, column 3: duplicate key \"tag\" in one mapping"],
  ])("%s with a duplicate key is refused (exit 2, file and line named), nothing written", async (file, content, message) => {
    const dir = tree({ "a-good.yaml": POD("r.io/api:1.0"), [file]: content });
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0"], cwd());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`SLIPWAY_GITOPS_YAML: ${file} is not valid YAML: ${message} (Kubernetes and Helm read the last one; remove the other)`);
    expect(readFileSync(join(dir, file), "utf8")).toBe(content);
    expect(readFileSync(join(dir, "a-good.yaml"), "utf8")).toBe(POD("r.io/api:1.0"));
  });

  it("--set and --policy disagreeing on one field is refused by verification, nothing written", async () => {
    const marked = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: r.io/api:1.0 # {"$imagepolicy": "flux-system:api"}\n';
    const dir = tree({ "a.yaml": marked });
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0", "--policy", "flux-system:api=r.io/api:3.0"], cwd());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SLIPWAY_GITOPS_VERIFY_FAILED: a.yaml Pod/p spec.containers[0].image: expected "r.io/api:2.0" after the edit, found "r.io/api:3.0"');
    expect(readFileSync(join(dir, "a.yaml"), "utf8")).toBe(marked);
  });

  it.each([
    [["--set", "r.io/api"], 'SLIPWAY_GITOPS_SET_INVALID: --set "r.io/api": expected IMAGE=TAG'],
    [["--set", "r.io/api:1.0=2.0"], 'must not carry a tag or digest'],
    [["--set", "r.io/api=bad tag"], '"bad tag" is not a valid tag'],
    [["--set", "r.io/api=1.0@sha256:abc"], '"sha256:abc" is not a digest'],
    [["--set", "r.io/api=1.0", "--set", "r.io/api=2.0"], '"r.io/api" is given twice with different values'],
    [["--policy", "api=r.io/api:1.0"], 'SLIPWAY_GITOPS_POLICY_INVALID: --policy "api=r.io/api:1.0": "api" is not NAMESPACE:NAME'],
    [["--policy", "ns:api=r.io/api"], 'is not IMAGE:TAG'],
    [[], "SLIPWAY_USAGE: give at least one --set or --policy"],
  ])("bad input %j exits 2: %s", async (flags, message) => {
    const dir = tree({ "a.yaml": POD("r.io/api:1.0") });
    const result = await cli(["gitops", "bump", "--repo", dir, ...flags], cwd());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(readFileSync(join(dir, "a.yaml"), "utf8")).toBe(POD("r.io/api:1.0"));
  });

  // Values files as teams name them (`<service>-values.yaml`, `envs/prod.yaml`, passed with `helm -f`): recognised by
  // content (a mapping that is not a Kubernetes object), in the `helm create` layout image.repository + image.tag.
  it.each(["payments-values.yaml", "envs/prod.yaml", "helm/payments.yml"])("edits Helm values in %s, recognised by content", async (file) => {
    const values = 'replicaCount: 2\nimage:\n  repository: r.io/api\n  pullPolicy: IfNotPresent\n  tag: "1.0"\n';
    const dir = tree({ [file]: values });
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0"], cwd());
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, file), "utf8")).toBe(values.replace('tag: "1.0"', 'tag: "2.0"'));
  });

  // An Argo Rollout in the shape of argoproj/argo-rollouts' getting-started docs (kind Rollout, spec.template like a
  // Deployment): no format edits that kind. Beside it, names that must NOT count: a Flux ImageRepository's
  // spec.image (a name without tag), an annotation and a comment.
  const ROLLOUT = [
    "apiVersion: argoproj.io/v1alpha1",
    "kind: Rollout",
    "metadata:",
    "  name: api",
    "  annotations:",
    "    slipway.example/was: r.io/api:1.0",
    "spec:",
    "  replicas: 5",
    "  strategy:",
    "    canary:",
    "      steps:",
    "      - setWeight: 20",
    "      - pause: {}",
    "  template:",
    "    spec:",
    "      containers:",
    "      - name: api # r.io/api:1.0",
    "        image: r.io/api:1.0",
    "---",
    "apiVersion: image.toolkit.fluxcd.io/v1",
    "kind: ImageRepository",
    "metadata:",
    "  name: api",
    "spec:",
    "  image: r.io/api",
    "",
  ].join("\n");
  // A values file in a layout we do not detect (no `repository`/`tag` keys): the bare name counts there.
  const ODD_VALUES = "api:\n  repo: r.io/api\n  version: \"1.0\"\n";

  it.each([
    ["rollout.yaml", ROLLOUT, "rollout.yaml:18"],
    ["payments-values.yaml", ODD_VALUES, "payments-values.yaml:2"],
  ])("%s names the image where no format edits it: SLIPWAY_GITOPS_UNEDITED (exit 2), nothing written", async (file, content, place) => {
    const dir = tree({ "apps/pod.yaml": POD("r.io/api:1.0"), [file]: content });
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0"], cwd());
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(`SLIPWAY_GITOPS_UNEDITED: ${place} names "r.io/api" where no format can edit it`);
    expect(result.stderr).toContain("--allow-unedited");
    expect(readFileSync(join(dir, "apps/pod.yaml"), "utf8")).toBe(POD("r.io/api:1.0"));
    expect(readFileSync(join(dir, file), "utf8")).toBe(content);
  });

  it.each([
    ["--allow-unedited", ["--allow-unedited"], ""],
    ["gitops.allowUnedited in slipway.yaml", [], "gitops:\n  allowUnedited: true\n"],
  ])("%s bumps the rest and lists what was left", async (_name, flags, config) => {
    const dir = tree({ "apps/pod.yaml": POD("r.io/api:1.0"), "rollout.yaml": ROLLOUT });
    const here = cwd();
    if (config) writeFileSync(join(here, "slipway.yaml"), config);
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0", ...flags], here);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("apps/pod.yaml\n  Pod/p spec.containers[0].image: r.io/api:1.0 -> r.io/api:2.0\nnot edited (allowed): rollout.yaml:18 r.io/api\nchanged 1 field in 1 file\n");
    expect(readFileSync(join(dir, "apps/pod.yaml"), "utf8")).toBe(POD("r.io/api:2.0"));
    expect(readFileSync(join(dir, "rollout.yaml"), "utf8")).toBe(ROLLOUT);
  });

  it("treats files matched by gitops.helm.valuesFiles as Helm values", async () => {
    const dir = tree({ "envs/prod/overrides.yaml": "image:\n  repository: r.io/api\n  tag: \"1.0\"\n" });
    const here = cwd();
    writeFileSync(join(here, "slipway.yaml"), "gitops:\n  helm:\n    valuesFiles: [\"envs/*/overrides.yaml\"]\n");
    const result = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0"], here);
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, "envs/prod/overrides.yaml"), "utf8")).toBe('image:\n  repository: r.io/api\n  tag: "2.0"\n');
  });

  it("reads Helm key paths from slipway.yaml gitops.helm.images, and rejects a bad gitops section", async () => {
    const dir = tree({ "values.yaml": "app:\n  img: r.io/api:1.0\n" });
    const here = cwd();
    writeFileSync(join(here, "slipway.yaml"), "gitops:\n  helm:\n    images:\n      - image: app.img\n");
    expect((await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=2.0"], here)).code).toBe(0);
    expect(readFileSync(join(dir, "values.yaml"), "utf8")).toBe("app:\n  img: r.io/api:2.0\n");
    writeFileSync(join(here, "slipway.yaml"), "gitops:\n  helm:\n    images:\n      - repository: app.repo\n");
    const bad = await cli(["gitops", "bump", "--repo", dir, "--set", "r.io/api=3.0"], here);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("gitops.helm.images[0]: give either `image`, or `repository` and `tag`");
  });
});
