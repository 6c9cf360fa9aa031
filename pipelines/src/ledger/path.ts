import { ledgerEnvironmentInvalid } from "../errors.js";

// Where an environment's ledger lives, apart from ./ledger.ts: importing it must not load zod (issue 16,
// start-up: the gitops and ledger commands' modules reach it through release/environment.ts).

export const DEFAULT_KEEP = 50;
const ENVIRONMENT = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Repo-relative path of an environment's ledger; the name is checked so it cannot leave the folder. */
export function ledgerPath(environment: string): string {
  if (!ENVIRONMENT.test(environment)) throw ledgerEnvironmentInvalid(environment);
  return `.slipway/ledger/${environment}.json`;
}
