import { readFileSync } from "node:fs";

/**
 * The one masker of the process: every credential the process knows (from its environment, the files the
 * environment points at, kubeconfig users, DataSource options, and tokens obtained while it runs) is
 * registered here, and everything the CLI writes (stdout, stderr, report and diagnostics files) passes
 * through `maskSecrets`. Text from anywhere is masked the same way: our own messages, a user's DataSource
 * module that throws with DATABASE_URL in its message, or a hostile server echoing the request it got
 * (an Authorization header, a form body) into its error. Like GitHub Actions' `::add-mask::`, the value is
 * masked whatever the source of the text, also as it appears URL-encoded, JSON-escaped and inside base64
 * (HTTP Basic auth, `user:password` encoded together).
 */

/** Shorter values are not masked: masking "ab" would garble every line and hide nothing worth hiding. */
const MIN_SECRET = 4;
/** Base64 fragments of shorter values (under 8 characters) would match unrelated text. */
const MIN_BASE64 = 8;

export const MASK = "***";

/** Environment variables whose whole value is a credential. */
export const SECRET_ENV = [
  "SLIPWAY_GIT_TOKEN",
  "SLIPWAY_REGISTRY_PASSWORD",
  "AZURE_CLIENT_SECRET",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  "SYSTEM_ACCESSTOKEN",
  "idToken",
  "AZURE_PIPELINES_ID_TOKEN",
  "servicePrincipalKey",
] as const;

/** Environment variables holding a URL whose userinfo is a credential: DATABASE_URL and any *_DATABASE_URL. */
const URL_ENV = /^(?:.*_)?DATABASE_URL$/;

/** Environment variables naming a file whose content is a credential. */
const FILE_ENV = ["AZURE_FEDERATED_TOKEN_FILE"] as const;

const secrets = new Set<string>();
let patterns: string[] | null = null;

/** The forms a value takes in text we print: itself, URL-encoded, form-encoded, JSON-escaped, and inside base64. */
function variants(value: string): string[] {
  const out = new Set<string>([value]);
  out.add(encodeURIComponent(value));
  out.add(new URLSearchParams({ v: value }).toString().slice(2));
  out.add(JSON.stringify(value).slice(1, -1));
  try {
    out.add(decodeURIComponent(value));
  } catch {
    // not percent-encoded
  }
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length >= MIN_BASE64) {
    // Inside a longer base64 text (`Basic base64(user:password)`) the value starts at any offset mod 3; from
    // one of the three offsets on, its whole 3-byte groups encode to the same characters wherever it sits.
    for (let skip = 0; skip < 3; skip++) {
      const groups = bytes.subarray(skip, skip + Math.floor((bytes.length - skip) / 3) * 3);
      if (groups.length === 0) continue;
      out.add(groups.toString("base64"));
      out.add(groups.toString("base64url"));
    }
  }
  return [...out].filter((v) => v.length >= MIN_SECRET);
}

/** Registers a credential: from now on it is masked in everything the process writes. */
export function registerSecret(value: string | null | undefined): void {
  if (typeof value !== "string") return;
  const trimmed = value.trim();
  for (const v of new Set([value, trimmed])) {
    if (v.length < MIN_SECRET || secrets.has(v)) continue;
    secrets.add(v);
    patterns = null;
  }
}

/**
 * Registers the userinfo of a URL (or scp-like address), whether or not it parses: the password, the whole
 * `user:password`, and over HTTP(S) a lone user part (often a token: `https://<token>@host`).
 */
export function registerUrlCredentials(value: string | null | undefined): void {
  if (typeof value !== "string") return;
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/is.exec(value)?.[1] ?? /^[a-z][a-z0-9+.-]*:\/\/(.*)@/is.exec(value)?.[1];
  if (userinfo === undefined) return;
  const colon = userinfo.indexOf(":");
  if (colon >= 0) {
    registerSecret(userinfo);
    registerSecret(userinfo.slice(colon + 1));
  } else if (/^https?:/i.test(value)) {
    registerSecret(userinfo);
  }
}

/** Registers every credential the environment carries (see SECRET_ENV, DATABASE_URL, AZURE_FEDERATED_TOKEN_FILE). */
export function registerEnvSecrets(env: NodeJS.ProcessEnv): void {
  for (const name of SECRET_ENV) registerSecret(env[name]);
  for (const [name, value] of Object.entries(env)) if (URL_ENV.test(name)) registerUrlCredentials(value);
  for (const name of FILE_ENV) {
    const file = env[name];
    if (!file) continue;
    try {
      registerSecret(readFileSync(file, "utf8"));
    } catch {
      // unreadable now: the identity code reports it, and registers the token when it reads one
    }
  }
}

/** Registers the credentials of kubeconfig users: tokens, passwords, client keys (base64 and decoded). */
export function registerKubeUsers(users: readonly { token?: string; password?: string; username?: string; keyData?: string; authProvider?: unknown }[]): void {
  for (const user of users) {
    registerSecret(user.token);
    registerSecret(user.password);
    if (user.username && user.password) registerSecret(`${user.username}:${user.password}`);
    if (user.keyData) {
      registerSecret(user.keyData);
      registerPem(Buffer.from(user.keyData, "base64").toString("utf8"));
    }
    const config = (user.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    for (const key of ["access-token", "id-token", "refresh-token", "client-secret"]) {
      const v = config[key];
      if (typeof v === "string") registerSecret(v);
    }
  }
}

/** A PEM private key: each base64 line of its body (a key is printed line by line). */
function registerPem(pem: string): void {
  const body = pem.split("\n").filter((l) => l.trim() && !l.startsWith("-----"));
  for (const line of body) registerSecret(line.trim());
}

function currentPatterns(): string[] {
  if (patterns) return patterns;
  const all = new Set<string>();
  for (const s of secrets) for (const v of variants(s)) all.add(v);
  // Longest first, so a value that contains another is masked whole.
  patterns = [...all].sort((a, b) => b.length - a.length);
  return patterns;
}

/**
 * Replaces every registered credential, and each of `extra` (values known only to the caller), in every
 * form it takes (see `variants`), with `***`. Empty and very short values are ignored.
 */
export function maskSecrets(text: string, extra: readonly (string | null | undefined)[] = []): string {
  const own = extra.filter((s): s is string => typeof s === "string" && s.length >= MIN_SECRET).flatMap(variants);
  const list = own.length > 0 ? [...own, ...currentPatterns()].sort((a, b) => b.length - a.length) : currentPatterns();
  let out = text;
  for (const secret of list) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

/** Forgets every registered credential (tests that run the CLI in-process many times). */
export function clearSecrets(): void {
  secrets.clear();
  patterns = null;
}
