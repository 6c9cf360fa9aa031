// Values of slipway.yaml's rules that the plan reads too, apart from ./schema.ts: importing them must not
// load zod and every area's schema (issue 16, start-up: `plan` on a repository without slipway.yaml).

/** A service name becomes an image repository name and a folder: DNS-label rules. */
export const SERVICE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The Node.js majors a service can be built on: each has an official node:<major>-bookworm-slim image.
 * Ranges (engines.node, .nvmrc) resolve to the highest of these that satisfies them.
 */
export const NODE_MAJORS = [18, 20, 22, 24] as const;
export type NodeMajor = (typeof NODE_MAJORS)[number];
