// Any `userinfo@` form is a credential, also when the address does not parse: refused with exit 2 and
// never printed (issue: parse errors used to echo the whole URL, password included).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasCredentialUserinfo, redactUserinfo } from "../../../pipelines/src/errors.js";
import { cli } from "../../helpers/cli.js";
import { useScratch } from "../../helpers/gitops-remote.js";

const { tmp } = useScratch();
const SECRET = "s3cr3tCanary";

const HOSTILE = [
  `https://user:${SECRET}/x@github.com/acme/gitops.git`,
  `https://user:${SECRET}@github.com:99999/acme/gitops.git`,
  `https://user:${SECRET}@[::1/acme/gitops.git`,
  `https://user:${SECRET}@git hub.com/acme/gitops.git`,
  `https://user:${SECRET}#x@github.com/acme/gitops.git`,
  `https://user:${SECRET}/@github.com/acme/gitops.git`,
  `https://user:${SECRET}@github.com/acme/gitops.git`,
  `https://${SECRET}@github.com/acme/gitops.git`,
  `ssh://git:${SECRET}@github.com/acme/gitops.git`,
  `user:${SECRET}@github.com:acme/gitops.git`,
  `file://u:${SECRET}@/tmp/gitops.git`,
];

describe("pipelines/src/gitops credentials in repository addresses", () => {
  it.each(HOSTILE)("gitops commit-push --repo %s: exit 2, the secret in no output", async (repo) => {
    const dir = tmp("slipway-url-");
    writeFileSync(join(dir, "slipway.yaml"), "{}\n");
    const result = await cli(["gitops", "commit-push", "--repo", repo, "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_CREDENTIALS_IN_URL: repository URL ".*\*\*\*@.*" carries credentials/);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it.each(["https://github.com/acme/gitops.git", "ssh://git@github.com/acme/gitops.git", "git@github.com:acme/gitops.git", "/srv/git/gitops.git", "file:///srv/git/gitops.git"])(
    "%s carries no credential",
    (repo) => {
      expect(hasCredentialUserinfo(repo)).toBe(false);
      // Nothing to hide in an address without userinfo (an SSH login part is masked like any userinfo).
      if (!repo.includes("@")) expect(redactUserinfo(repo)).toBe(repo);
    },
  );

  it("a URL that does not parse and carries nothing secret is a coded error naming it", async () => {
    const dir = tmp("slipway-url-");
    writeFileSync(join(dir, "slipway.yaml"), "{}\n");
    const result = await cli(["gitops", "commit-push", "--repo", "https://github.com:99999/acme/gitops.git", "--branch", "main", "--set", "myacr.azurecr.io/shop/api=1.1.0"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^SLIPWAY_GITOPS_BAD_URL: repository URL "https:\/\/github.com:99999\/acme\/gitops.git" is not a valid URL/);
  });
});

describe("slipway rollout verify with a kubeconfig server URL that carries a password", () => {
  it("the unreachable error names the server without its password", async () => {
    const dir = tmp("slipway-kube-");
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{ name: c, cluster: { server: 'https://admin:${SECRET}@127.0.0.1:1', insecure-skip-tls-verify: true } }]`,
        "users: [{ name: u, user: { token: t } }]",
        "contexts: [{ name: c, context: { cluster: c, user: u } }]",
        "current-context: c",
        "",
      ].join("\n"),
    );
    const result = await cli(["rollout", "verify", "--kubeconfig", kubeconfig, "-n", "shop", "--deployment", "api", "--timeout", "5s"], dir);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stderr).toMatch(/SLIPWAY_KUBE_UNREACHABLE: the Kubernetes API at "https:\/\/\*\*\*@127\.0\.0\.1:1"/);
  }, 60_000);
});
