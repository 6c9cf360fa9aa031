import { loadConfig } from "./config.js";
import { createLogger, errorFields } from "./log.js";
import { startService } from "./service.js";

const log = createLogger();
const loaded = loadConfig(process.env);
if (!loaded.ok) {
  log.error("invalid configuration", { problems: loaded.problems });
  process.exit(1);
}

const service = await startService(loaded.config, log);

// Kubernetes sends SIGTERM on rollout and scale-down; Ctrl-C sends SIGINT locally.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info("shutting down", { signal });
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error("shutdown failed", errorFields(error));
        process.exit(1);
      },
    );
  });
}
