#!/usr/bin/env node
// The installed CLI runs the compiled core (npm run build -w pipelines).
import { processIo, run } from "../dist/cli/main.js";

process.exitCode = await run(process.argv.slice(2), processIo());
