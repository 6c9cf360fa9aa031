import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

/**
 * A real smart-HTTP git server for tests: git's own `git http-backend` (CGI) behind Basic auth,
 * as GitHub and Azure Repos do for tokens. Clients get 401 first, then ask GIT_ASKPASS.
 * With `tls` (a server certificate, e.g. from test/standins/azure/tls.ts makeTestTls) it serves HTTPS,
 * as every hosted git server does; clients must then trust the certificate's CA.
 */
export interface GitHttpServer {
  url: string;
  /** Requests that carried the right credentials. */
  authorized: number;
  /** Requests refused. */
  refused: number;
  close: () => Promise<void>;
}

export interface GitHttpOptions {
  /** Serve HTTPS with this PEM certificate and key instead of plain HTTP. */
  tls?: { cert: string; key: string };
}

export async function startGitHttpServer(projectRoot: string, username: string, token: string, options: GitHttpOptions = {}): Promise<GitHttpServer> {
  const expected = `Basic ${Buffer.from(`${username}:${token}`).toString("base64")}`;
  const state = { authorized: 0, refused: 0 };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.headers.authorization !== expected) {
      state.refused++;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' });
      res.end();
      return;
    }
    state.authorized++;
    const url = new URL(req.url ?? "/", "http://localhost");
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
        REMOTE_USER: username,
        REMOTE_ADDR: "127.0.0.1",
      },
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const text = head.toString("latin1");
      const crlf = text.indexOf("\r\n\r\n");
      const lf = text.indexOf("\n\n");
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      headersDone = true;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of text.slice(0, end).split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + (end === crlf ? 4 : 2)));
    });
    child.stdout.on("end", () => res.end());
  };
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    get authorized() {
      return state.authorized;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        // Idle keep-alive connections of a client would hold close() open.
        server.closeAllConnections();
      }),
  };
}
