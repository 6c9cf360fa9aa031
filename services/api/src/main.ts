import { loadConfig } from "./config.js";
import { createLogger, errorFields } from "./log.js";
import { startApi } from "./server.js";

const log = createLogger();
const loaded = loadConfig(process.env);
if (!loaded.ok) {
  log.error("invalid configuration", { problems: loaded.problems });
  process.exit(1);
}

const api = await startApi(loaded.config, log);

// Kubernetes sends SIGTERM on rollout and scale-down; Ctrl-C sends SIGINT locally.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info("shutting down", { signal });
    api.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error("shutdown failed", errorFields(error));
        process.exit(1);
      },
    );
  });
}
