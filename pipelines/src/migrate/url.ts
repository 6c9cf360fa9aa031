import { migrateDatabaseUrlInvalid } from "../errors.js";

/**
 * The sslmode values node-postgres knows (pg-connection-string `parse`). Any other value, libpq's `allow`
 * included, is not refused there: it silently means "TLS with full certificate verification".
 */
export const PG_SSLMODES = ["disable", "prefer", "require", "verify-ca", "verify-full", "no-verify"] as const;

/**
 * Checks a connection URL before TypeORM and the driver see it, because both misread a malformed one
 * silently or with a message that quotes it. TypeORM's postgres driver reads the URL twice: its own
 * DriverUtils.parseConnectionUrl (decodeURIComponent of user and password: a stray `%` throws URIError)
 * and node-postgres' pg-connection-string (WHATWG URL: a `#`, `/` or `?` in the password ends the
 * authority, so the host becomes the user name and part of the password the port or path). Problems are
 * named without echoing the user name or password. `where` names the URL's origin in messages.
 */
export function checkDatabaseUrl(url: string, type: string, where: string): void {
  const fail = (problem: string) => migrateDatabaseUrlInvalid(where, problem);
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) throw fail(`it does not start with a scheme such as ${type}://`);
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const after = end < 0 ? "" : rest.slice(end);
  const at = authority.lastIndexOf("@");
  if (at < 0 && after.includes("@")) {
    throw fail("a '/', '?' or '#' in the user name or password is not percent-encoded (write %2F, %3F, %23)");
  }
  if (at >= 0) {
    try {
      for (const part of authority.slice(0, at).split(":")) decodeURIComponent(part);
    } catch {
      throw fail("a '%' in the user name or password is not followed by two hex digits (write a literal '%' as %25)");
    }
  }
  const hostPort = authority.slice(at + 1);
  const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== "" && (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
    throw fail(`port ${JSON.stringify(port)} is not a number between 1 and 65535`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail("it is not a valid URL");
  }
  if (type === "postgres") {
    const sslmode = parsed.searchParams.get("sslmode");
    if (sslmode !== null && !(PG_SSLMODES as readonly string[]).includes(sslmode)) {
      throw fail(`sslmode ${JSON.stringify(sslmode)} is not one node-postgres supports (${PG_SSLMODES.join(", ")})`);
    }
  }
}
