import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestTls {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
}

/**
 * A throwaway CA and one server certificate for localhost, 127.0.0.1 and *.azurecr.io (the ACR stand-in is
 * reached under an azurecr.io name, resolved to 127.0.0.1 by ./dns.ts). Made with the openssl CLI.
 */
export function makeTestTls(): TestTls {
  const dir = mkdtempSync(join(tmpdir(), "slipway-tls-"));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("ca.key"));
  openssl("req", "-x509", "-new", "-key", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=slipway test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("server.key"));
  openssl("req", "-new", "-key", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=localhost");
  writeFileSync(
    f("ext.cnf"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=DNS:localhost,DNS:*.azurecr.io,IP:127.0.0.1\n",
  );
  openssl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-out", f("server.pem"), "-days", "2", "-extfile", f("ext.cnf"));
  return {
    dir,
    caFile: f("ca.pem"),
    certFile: f("server.pem"),
    keyFile: f("server.key"),
    ca: readFileSync(f("ca.pem"), "utf8"),
    cert: readFileSync(f("server.pem"), "utf8"),
    key: readFileSync(f("server.key"), "utf8"),
  };
}
