#!/usr/bin/env node
// The installed CLI runs the bundle (npm run build -w pipelines: dist/slipway.js and its chunks).
import { main } from "../dist/slipway.js";

await main(process.argv.slice(2));
