import { configCheck, configSchema } from "../config/commands.js";
import { planCommand } from "../plan/commands.js";
import { ACR_COMMANDS } from "../acr/commands.js";
import { rolloutVerify } from "../rollout/commands.js";
import { MIGRATE_COMMANDS } from "../migrate/commands.js";
import { SCAN_COMMANDS } from "../scan/commands.js";
import { GITOPS_COMMANDS } from "../gitops/commands.js";
import { LEDGER_COMMANDS } from "../ledger/commands.js";
import type { Command } from "./command.js";

/** Every command of the `slipway` CLI. Each area exports its commands from `<area>/commands.ts`. */
export const COMMANDS: Command[] = [configCheck, configSchema, planCommand, ...ACR_COMMANDS, rolloutVerify, ...MIGRATE_COMMANDS, ...SCAN_COMMANDS, ...GITOPS_COMMANDS, ...LEDGER_COMMANDS];
