// The Dagger module's release path end to end: the release steps one by one (release-steps.e2e.ts:
// `migrate` against a real PostgreSQL, `verifyRollout` against the Kubernetes API stand-in) and the
// release flow (release.e2e.ts: `release`, its automatic rollback, `promote`). The real SDK client drives
// the Dagger API stand-in on the run's shared Docker engine (test/images/shared-engine.ts).
//
// Split from module.test.ts so that vitest's two workers share the e2e work: each file has its own
// stand-in session, and BuildKit in the shared engine builds the toolkit once for both.
import { e2eFile } from "./context.js";
import { releaseStepsSuite } from "./release-steps.e2e.js";
import { releaseSuite } from "./release.e2e.js";

e2eFile("the Dagger module's release path through the real SDK against the Dagger API stand-in", "test/dagger/e2e/release.test.ts", (e2e) => {
  releaseStepsSuite(e2e);
  releaseSuite(e2e);
});
