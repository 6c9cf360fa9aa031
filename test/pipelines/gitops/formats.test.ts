import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { fluxMarkers, markerValue, parseMarker } from "../../../pipelines/src/gitops/formats/flux-markers/index.js";
import { helmValues } from "../../../pipelines/src/gitops/formats/helm-values/index.js";
import { kustomize } from "../../../pipelines/src/gitops/formats/kustomize/index.js";
import { plain } from "../../../pipelines/src/gitops/formats/plain/index.js";
import { FORMATS } from "../../../pipelines/src/gitops/formats/registry.js";
import { parseTargets } from "../../../pipelines/src/gitops/input.js";
import type { FormatChange, HelmKeyPath } from "../../../pipelines/src/gitops/types.js";
import { FORMAT_NAMES } from "../../../pipelines/src/gitops/types.js";
import { REPO_ROOT } from "../../helpers/cli.js";
import { thrown } from "../../helpers/errors.js";

const FORMATS_DIR = join(REPO_ROOT, "pipelines", "src", "gitops", "formats");
const FIXTURES = join(REPO_ROOT, "test", "fixtures", "gitops");
const D1 = `sha256:${"1".repeat(64)}`;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function change(path: string, sets: string[], policies: string[] = []): FormatChange {
  return { path, ...parseTargets(sets, policies), options: { helmKeyPaths: [] } };
}

describe("pipelines/src/gitops/formats (contract: registry, folders, golden cases agree)", () => {
  const folders = readdirSync(FORMATS_DIR).filter((d) => statSync(join(FORMATS_DIR, d)).isDirectory()).sort();

  it("the registry lists exactly the format folders, each under its own name", () => {
    expect([...FORMATS.keys()].sort()).toEqual(folders);
    expect([...FORMAT_NAMES].sort()).toEqual(folders);
    for (const [name, format] of FORMATS) expect(format.name).toBe(name);
  });

  it.each(folders)("%s: has a golden case, finds images in its input, and is a no-op without targets", (name) => {
    const format = FORMATS.get(name as (typeof FORMAT_NAMES)[number]);
    expect(format).toBeDefined();
    const input = join(FIXTURES, name, "input");
    let found = 0;
    for (const file of files(input)) {
      const path = relative(input, file);
      const content = readFileSync(file, "utf8");
      found += format?.extract(content, path, { helmKeyPaths: [] }).length ?? 0;
      const same = format?.update(content, { path, images: [], policies: [], options: { helmKeyPaths: [] } });
      expect(same?.content).toBe(content);
      expect(same?.edits).toEqual([]);
    }
    expect(found).toBeGreaterThan(0);
  });
});

describe("pipelines/src/gitops/yaml-edit (scalars YAML would re-type are quoted)", () => {
  const values = (tag: string): string => `image:\n  repository: r.io/api\n  tag: old # keep me\n`.replace("old", tag);
  it.each([
    ["1.20", 'tag: "1.20" # keep me'],
    ["0755", 'tag: "0755" # keep me'],
    ["123", 'tag: "123" # keep me'],
    ["1e3", 'tag: "1e3" # keep me'],
    ["on", 'tag: "on" # keep me'],
    ["yes", 'tag: "yes" # keep me'],
    ["null", 'tag: "null" # keep me'],
    ["true", 'tag: "true" # keep me'],
    ["2024-01-01", 'tag: "2024-01-01" # keep me'],
    ["v1.2.3", "tag: v1.2.3 # keep me"],
    ["1.2.3", "tag: 1.2.3 # keep me"],
    ["sha-1a2b3c4d5e6f", "tag: sha-1a2b3c4d5e6f # keep me"],
  ])("tag %s is written as `%s`", (tag, line) => {
    const out = helmValues.update(values("old"), change("values.yaml", [`r.io/api=${tag}`]));
    expect(out.content).toBe(values("old").replace("tag: old # keep me", line));
    // And it reads back as the same string.
    expect(helmValues.extract(out.content, "values.yaml", { helmKeyPaths: [] })[0]?.value).toBe(`r.io/api:${tag}`);
  });

  it("keeps single and double quotes of the original", () => {
    const src = "a:\n  image:\n    repository: r.io/api\n    tag: 'x'\nb:\n  image:\n    repository: r.io/web\n    tag: \"y\"\n";
    const out = helmValues.update(src, change("values.yaml", ["r.io/api=1.20", "r.io/web=v2"]));
    expect(out.content).toBe("a:\n  image:\n    repository: r.io/api\n    tag: '1.20'\nb:\n  image:\n    repository: r.io/web\n    tag: \"v2\"\n");
  });

  it("edits an anchored image once, where it is written, leaves the alias, and records both containers", () => {
    const src = [
      "apiVersion: v1",
      "kind: Pod",
      "metadata: {name: p}",
      "spec:",
      "  containers:",
      "  - name: a",
      "    image: &img r.io/api:1.0   # anchor",
      "  initContainers:",
      "  - name: b",
      "    image: *img",
      "",
    ].join("\n");
    const out = plain.update(src, change("pod.yaml", ["r.io/api=2.0"]));
    expect(out.content).toBe(src.replace("&img r.io/api:1.0", "&img r.io/api:2.0"));
    expect(out.edits.map((e) => e.field)).toEqual(["spec.initContainers[0].image", "spec.containers[0].image"]);
  });

  it("refuses a block scalar image with a clear error naming file and field", () => {
    const src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: >-\n      r.io/api:1.0\n";
    const error = thrown(() => plain.update(src, change("apps/pod.yaml", ["r.io/api=2.0"])));
    expect(error.code).toBe("SLIPWAY_GITOPS_UNSUPPORTED");
    expect(error.message).toBe("apps/pod.yaml spec.containers[0].image: is a block scalar (| or >)");
  });

  it("kustomize: adds missing newTag and digest lines with the entry's indentation and the file's CRLF", () => {
    const src = "images:\r\n  - name: r.io/api  # renamed below\r\n    newName: r.io/api\r\n\r\n  - name: r.io/web\r\n";
    const out = kustomize.update(src, change("kustomization.yaml", [`r.io/api=1.20@${D1}`]));
    expect(out.content).toBe(`images:\r\n  - name: r.io/api  # renamed below\r\n    newName: r.io/api\r\n    newTag: "1.20"\r\n    digest: ${D1}\r\n\r\n  - name: r.io/web\r\n`);
    expect(kustomize.extract(out.content, "kustomization.yaml", { helmKeyPaths: [] })[0]?.value).toBe(`r.io/api:1.20@${D1}`);
  });

  it("kustomize: drops a stale digest when only a tag is given (kustomize would keep pinning the old image)", () => {
    const src = `images:\n- name: r.io/api\n  newTag: "1.0"\n  digest: ${D1}\n- name: r.io/web\n  newTag: "1.0"\n`;
    const out = kustomize.update(src, change("kustomization.yaml", ["r.io/api=2.0.0"]));
    expect(out.content).toBe(`images:\n- name: r.io/api\n  newTag: "2.0.0"\n- name: r.io/web\n  newTag: "1.0"\n`);
  });
});

describe("pipelines/src/gitops/formats/flux-markers (same values as Flux setters)", () => {
  const target = { policy: "flux-system:app", image: "ghcr.io/org/app", tag: "1.2.3" };
  // The setters of image-automation-controller internal/update/setters.go, from the policy's
  // status.latestRef (image-reflector-controller api/v1 ImageRef): whole marker = ImageRef.String(),
  // :tag = Tag, :name = Name, :digest = Digest. A :tag field never receives the digest.
  it.each([
    [null, {}, "ghcr.io/org/app:1.2.3"],
    ["tag", {}, "1.2.3"],
    ["name", {}, "ghcr.io/org/app"],
    [null, { digest: D1 }, `ghcr.io/org/app:1.2.3@${D1}`],
    ["tag", { digest: D1 }, "1.2.3"],
    ["name", { digest: D1 }, "ghcr.io/org/app"],
    ["digest", { digest: D1 }, D1],
  ] as const)("marker form %s with %o writes %s", (suffix, extra, expected) => {
    expect(markerValue({ ...target, ...extra }, suffix)).toBe(expected);
  });

  it.each([
    ['# {"$imagepolicy": "flux-system:app"}', { policy: "flux-system:app", suffix: null }],
    ['#{"$imagepolicy":"flux-system:app:tag"}', { policy: "flux-system:app", suffix: "tag" }],
    ['  # {"$imagepolicy": "ns:app:digest"}\r', { policy: "ns:app", suffix: "digest" }],
    ['# {"$imagepolicy": "ns:app:version"}', null],
    ["# $imagepolicy ns:app", null],
    ['# {"$imagepolicy": "ns:app"} trailing', null],
  ])("parses %s", (comment, expected) => {
    const parsed = parseMarker(comment);
    expect(parsed === null ? null : { policy: parsed.policy, suffix: parsed.suffix }).toEqual(expected);
  });

  it("a :digest marker without a digest in --policy is an error that says what to pass", () => {
    const src = 'digest: x # {"$imagepolicy": "ns:app:digest"}\n';
    const error = thrown(() => fluxMarkers.update(src, change("a.yaml", [], ["ns:app=r.io/app:1.0"])));
    expect(error.message).toBe('a.yaml digest: marker "ns:app:digest" needs a digest');
    expect(error.details[0]).toBe("Pass the digest with the policy: --policy ns:app=r.io/app:1.0@sha256:<digest>.");
  });
});

describe("pipelines/src/gitops/formats/helm-values (layouts real charts use)", () => {
  const D0 = `sha256:${"0".repeat(64)}`;
  const keyPaths = (paths: HelmKeyPath[]): FormatChange["options"] => ({ helmKeyPaths: paths });

  // Two slipway.yaml `gitops.helm.images` entries on one repository key: both are edited.
  it.each([
    [
      // kubernetes/ingress-nginx charts/ingress-nginx/values.yaml (chart 4.x): controller.image has one tag and two
      // digests, `digest` and `digestChroot`; its comment suggests setting the full image URL in `repository`.
      "one image with two digest keys (ingress-nginx controller.image)",
      `controller:\n  image:\n    chroot: false\n    repository: r.io/ingress\n    tag: "v1.9.4"\n    digest: ${D0}\n    digestChroot: ${D0}\n    pullPolicy: IfNotPresent\n`,
      [
        { repository: "controller.image.repository", tag: "controller.image.tag", digest: "controller.image.digest" },
        { repository: "controller.image.repository", tag: "controller.image.tag", digest: "controller.image.digestChroot" },
      ],
      `controller:\n  image:\n    chroot: false\n    repository: r.io/ingress\n    tag: "v1.10.0"\n    digest: ${D1}\n    digestChroot: ${D1}\n    pullPolicy: IfNotPresent\n`,
    ],
    [
      "one repository, a tag per component",
      "global:\n  image:\n    repository: r.io/ingress\napi:\n  tag: v1.9.4\nworker:\n  tag: v1.9.4\n",
      [
        { repository: "global.image.repository", tag: "api.tag" },
        { repository: "global.image.repository", tag: "worker.tag" },
      ],
      "global:\n  image:\n    repository: r.io/ingress\napi:\n  tag: v1.10.0\nworker:\n  tag: v1.10.0\n",
    ],
  ])("%s", (_name, src, paths, expected) => {
    const out = helmValues.update(src, { ...change("values.yaml", [`r.io/ingress=v1.10.0@${D1}`]), options: keyPaths(paths) });
    expect(out.content).toBe(expected);
    expect(out.edits).toHaveLength(2);
  });

  // A tag field pinned as `TAG@sha256:…`: what Renovate's helm-values digest pinning writes
  // (renovatebot/renovate#9070, release 24.80.0); `helm create`'s template renders "{{ repository }}:{{ tag }}", so it pins.
  it.each([
    ["a digest replaces the digest in the tag", `image:\n  repository: r.io/api\n  tag: v1@${D0}\n`, `r.io/api=v2@${D1}`, `image:\n  repository: r.io/api\n  tag: v2@${D1}\n`, undefined],
    ["keeps the quoting", `image:\n  repository: r.io/api\n  tag: "1.0@${D0}" # pinned\n`, `r.io/api=1.20@${D1}`, `image:\n  repository: r.io/api\n  tag: "1.20@${D1}" # pinned\n`, undefined],
    ["no digest given: the old pin goes, and the record says so", `image:\n  repository: r.io/api\n  tag: v1@${D0}\n`, "r.io/api=v2", "image:\n  repository: r.io/api\n  tag: v2\n", "the tag held a digest and no digest was given: the old pin was removed"],
  ])("tag TAG@sha256: %s", (_name, src, set, expected, note) => {
    const out = helmValues.update(src, change("values.yaml", [set]));
    expect(out.content).toBe(expected);
    expect(out.edits[0]?.note).toBe(note);
    const target = parseTargets([set], []).images[0];
    expect(helmValues.extract(out.content, "values.yaml", { helmKeyPaths: [] })[0]?.value).toBe(`r.io/api:${target?.tag}${note === undefined ? `@${target?.digest}` : ""}`);
  });

  // ingress-nginx (chart 4.x) writes `registry` + `image` + `tag` + `digest`; Flux v1's helm-operator documented
  // `image: repo/image` beside `tag: version`. The `image` key holds a name there, never a whole reference.
  it.each([
    ["ingress-nginx controller.image", `controller:\n  image:\n    registry: r.io\n    image: ingress/controller\n    tag: "v1.9.4"\n    digest: ${D0}\n`, "r.io/ingress/controller", `controller:\n  image:\n    registry: r.io\n    image: ingress/controller\n    tag: "v1.10.0"\n    digest: ${D1}\n`],
    ["Flux v1 helm-operator `image` + `tag`", "image: r.io/api\ntag: v1\n", "r.io/api", `image: r.io/api\ntag: v1.10.0\n`],
  ])("split `image:` + `tag:` layout: %s", (_name, src, image, expected) => {
    const out = helmValues.update(src, change("values.yaml", [`${image}=v1.10.0@${D1}`]));
    expect(out.content).toBe(expected);
  });
});
