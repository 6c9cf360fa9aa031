// Preloaded in child processes by the ACR tests (NODE_OPTIONS=--require): *.azurecr.io -> 127.0.0.1. See ./dns.ts.
/* global require */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dns = require("node:dns");
const original = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  const cb = typeof options === "function" ? options : callback;
  const opts = typeof options === "object" && options !== null ? options : {};
  if (typeof hostname === "string" && hostname.toLowerCase().endsWith(".azurecr.io")) {
    process.nextTick(() => (opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)));
    return;
  }
  return original.call(dns, hostname, options, callback);
};
