import { z } from "zod";
import { ScanSettings } from "../scan/schema.js";
import { PublishSettings } from "../acr/schema.js";
import { MigrateSettings } from "../migrate/schema.js";
import { RolloutSettings } from "../rollout/schema.js";
import { GitopsSettings } from "../gitops/schema.js";
import { LedgerSettings } from "../ledger/schema.js";
import { NODE_MAJORS, SERVICE_NAME_PATTERN } from "./constants.js";
import { EnvironmentsSettings } from "./environments.js";

// Kept in ./constants.ts so the plan reads them without loading zod; exported here for the rest.
export { NODE_MAJORS, SERVICE_NAME_PATTERN } from "./constants.js";
export type { NodeMajor } from "./constants.js";

/**
 * slipway.yaml, the one config file at the root of the repository being built.
 * Objects are strict: an unknown key is a problem reported with its path, never silently ignored.
 * Each section models only the fields we read (STYLE.md).
 */

export const ServiceName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (no '/' or '..')")
  .meta({ description: "Service name; used as image name. Lowercase letters, digits and '-'." });

const RelativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), {
    message: "must be a path relative to the repository root, without '..'",
  });

export const ServiceEntry = z
  .strictObject({
    name: ServiceName.optional().meta({ description: "Defaults to the folder name." }),
    path: RelativePath.meta({ description: "Folder of the service (holds its package.json), relative to the repo root." }),
    dockerfile: RelativePath.optional().meta({ description: "Defaults to <path>/Dockerfile. Relative to the repo root." }),
    context: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), {
        message: "must be a path relative to the repository root, without '..'",
      })
      .optional()
      .meta({
        description:
          "Docker build context, relative to the repo root. Defaults to the service folder when it has its own lockfile, else the repo root (workspaces).",
      }),
  })
  .meta({ description: "A service given explicitly." });
export type ServiceEntry = z.infer<typeof ServiceEntry>;

export const ServiceGlob = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), { message: "must be a glob relative to the repository root, without '..'" })
  .meta({ description: "A glob of service folders, e.g. `apps/*` or `*/`. Folders with a package.json and a Dockerfile are services." });

export const PlanSettings = z.strictObject({
  affectsAll: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: "Extra globs whose change affects every service (the root package.json and lockfiles always do)." }),
  ignore: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: "Globs whose changes affect no service. Default: `**/*.md`, `docs/**`." }),
});
export type PlanSettings = z.infer<typeof PlanSettings>;


const NodeMajorSetting = z
  .literal(NODE_MAJORS, { error: `expected one of the supported Node.js majors ${NODE_MAJORS.join(", ")}` })
  .meta({ description: `Node.js major: the service is built on node:<major>-bookworm-slim. One of ${NODE_MAJORS.join(", ")}.` });

export const BuildSettings = z
  .strictObject({
    node: NodeMajorSetting.optional().meta({
      description: "Node.js major for services whose own files (engines.node, .nvmrc, .node-version, volta.node) name none. Default 20.",
    }),
    corepackRegistry: z
      .url({ protocol: /^https$/, error: "expected an https:// URL of an npm registry, e.g. https://registry.npmjs.org" })
      .refine((url) => { const u = new URL(url); return u.username === "" && u.password === ""; }, "must not carry credentials: slipway.yaml is not a secret store")
      .optional()
      .meta({
        description:
          "Where corepack downloads pnpm and Yarn from (COREPACK_NPM_REGISTRY): an npm registry or a mirror of it. Default: corepack's own (registry.npmjs.org for pnpm and Yarn 1, repo.yarnpkg.com for Yarn 2+).",
      }),
    services: z
      .record(
        ServiceName,
        z.strictObject({
          node: NodeMajorSetting.optional().meta({ description: "Node.js major for this service, over anything its files say." }),
        }),
      )
      .optional()
      .meta({ description: "Per service (by name): overrides of what the service's files say." }),
  })
  .meta({ description: "How services are installed and checked by `ci`: the Node.js version per service." });
export type BuildSettings = z.infer<typeof BuildSettings>;

export const SlipwayConfig = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).optional().meta({ description: "Config format version." }),
    services: z
      .array(
        z.union([ServiceGlob, ServiceEntry], {
          error: "expected a glob string (e.g. `apps/*`) or a service entry { name, path, dockerfile, context }",
        }),
      )
      .optional()
      .meta({ description: "Where the services are. Default: folders under services/ with a package.json and a Dockerfile." }),
    plan: PlanSettings.optional(),
    build: BuildSettings.optional(),
    scan: ScanSettings.optional(),
    publish: PublishSettings.optional(),
    migrate: MigrateSettings.optional(),
    rollout: RolloutSettings.optional(),
    gitops: GitopsSettings.optional(),
    ledger: LedgerSettings.optional(),
    environments: EnvironmentsSettings.optional(),
  })
  .meta({ title: "slipway.yaml", description: "Slipway pipeline configuration." });
export type SlipwayConfig = z.infer<typeof SlipwayConfig>;
