import dns from "node:dns";

/**
 * Resolves every *.azurecr.io name to 127.0.0.1 in this process, so the ACR stand-in is reached under a
 * real-looking login server name (our code refuses non-ACR registries in ACR modes, as it should).
 * `net` calls `dns.lookup` through the module object, so replacing the property is enough.
 * Child processes get the same through ./resolve-azurecr.cjs (NODE_OPTIONS=--require).
 */
export function resolveAzurecrToLoopback(): () => void {
  const original = dns.lookup;
  const patched = function (hostname: string, options: unknown, callback?: unknown) {
    const cb = (typeof options === "function" ? options : callback) as (...args: unknown[]) => void;
    const opts = typeof options === "object" && options !== null ? (options as { all?: boolean }) : {};
    if (typeof hostname === "string" && hostname.toLowerCase().endsWith(".azurecr.io")) {
      process.nextTick(() => (opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)));
      return;
    }
    return (original as (...args: unknown[]) => void).call(dns, hostname, options, callback);
  };
  dns.lookup = patched as typeof dns.lookup;
  return () => {
    dns.lookup = original;
  };
}
