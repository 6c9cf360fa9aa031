#!/usr/bin/env node
// The installed CLI runs the compiled core (npm run build -w pipelines).
import { main } from "../dist/cli/main.js";

await main(process.argv.slice(2));
