// `npm run bench -- gitops`: bump over a generated GitOps repository of 5,000 YAML files where the
// image appears in 200 (plain Deployments, Kustomizations, Helm values). Target: under 2 s.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { bump } from "../../pipelines/src/gitops/bump.js";

const TOTAL = 5000;
const WITH_IMAGE = 200;
const IMAGE = "myacr.azurecr.io/shop/api";

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

function deployment(i: number, image: string): string {
  return `# generated ${i}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}\n  namespace: team-${i % 50}\n  labels:\n    app: app-${i}\nspec:\n  replicas: 2\n  template:\n    metadata:\n      labels:\n        app: app-${i}\n    spec:\n      containers:\n        - name: main\n          image: ${image}\n          ports:\n            - containerPort: 8080\n          env:\n            - name: LOG_LEVEL\n              value: info\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-${i}\nspec:\n  ports: [{port: 80, targetPort: 8080}]\n`;
}

const root = mkdtempSync(join(tmpdir(), "slipway-bench-gitops-"));
try {
  for (let i = 0; i < TOTAL; i++) {
    const dir = `clusters/c${i % 10}/apps/app-${i}`;
    if (i < WITH_IMAGE) {
      if (i % 5 === 0) write(root, `${dir}/kustomization.yaml`, `kind: Kustomization\nresources: [deployment.yaml]\nimages:\n  - name: ${IMAGE}\n    newTag: "1.0.${i}"\n`);
      else if (i % 5 === 1) write(root, `${dir}/values.yaml`, `image:\n  repository: ${IMAGE}\n  tag: 1.0.${i}\nreplicas: 2\n`);
      else write(root, `${dir}/deployment.yaml`, deployment(i, `${IMAGE}:1.0.${i}`));
    } else {
      write(root, `${dir}/deployment.yaml`, deployment(i, `myacr.azurecr.io/other/app-${i}:2.0.0`));
    }
  }
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = await bump({ root, images: [{ image: IMAGE, tag: "2.0.0" }], policies: [], options: { helmKeyPaths: [] } });
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const changed = result.written.length;
  console.log(`files: ${TOTAL} YAML, image in ${WITH_IMAGE}; files written: ${changed}`);
  console.log(`bump: ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (target < 2000 ms) ${ms < 2000 ? "OK" : "SLOW"}`);
  // On a shared machine wall time includes waiting for a core; the load average says how contended it was.
  console.log(`load average (1 min) during the run: ${(await import("node:os")).loadavg()[0]?.toFixed(1)}`);
  console.log(`peak RSS: ${(peak / 1024 / 1024).toFixed(0)} MiB (before: ${(before / 1024 / 1024).toFixed(0)} MiB)`);
  if (changed !== WITH_IMAGE) {
    console.error(`expected ${WITH_IMAGE} files written, got ${changed}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
