import type { IncomingMessage, ServerResponse } from "node:http";
import type { DataSource } from "typeorm";
import { checkReadiness } from "../health.js";
import type { Logger } from "../log.js";
import { errorFields } from "../log.js";
import type { Metrics } from "../metrics.js";
import { resourceRoutes } from "../routes.js";
import { HttpError, invalidJson, methodNotAllowed, notFound, payloadTooLarge, unsupportedMediaType } from "./errors.js";
import { matchRoute } from "./router.js";
import type { Route } from "./router.js";
import type { Handler, Reply, RequestContext } from "./types.js";

const MAX_BODY_BYTES = 64 * 1024;
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface AppOptions {
  dataSource: DataSource;
  metrics: Metrics;
  log: Logger;
}

export interface App {
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** Called on SIGTERM: /readyz answers 503 from now on so the pod leaves the Service endpoints. */
  startDraining(): void;
}

export function createApp({ dataSource, metrics, log }: AppOptions): App {
  let draining = false;

  const routes: Route<Handler>[] = [
    // Liveness never touches the database: a database outage must not make Kubernetes restart every pod.
    { method: "GET", path: "/healthz", handler: async () => ({ status: 200, body: { status: "ok" } }) },
    {
      method: "GET",
      path: "/readyz",
      handler: async () => {
        if (draining) return { status: 503, body: { status: "draining" } };
        const readiness = await checkReadiness(dataSource);
        if (readiness.ready) return { status: 200, body: { status: "ready" } };
        return { status: 503, body: { status: "not-ready", ...readiness } };
      },
    },
    {
      method: "GET",
      path: "/metrics",
      handler: async () => ({
        status: 200,
        text: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      }),
    },
    ...resourceRoutes(dataSource),
  ];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", "http://localhost");
    const match = matchRoute(routes, method, url.pathname);
    const route = match.kind === "found" ? match.route.path : "unmatched";
    const stopTimer = metrics.httpRequestDuration.startTimer({ method: KNOWN_METHODS.has(method) ? method : "other", route });

    let reply: Reply;
    try {
      if (match.kind === "not-found") throw notFound("route", url.pathname);
      if (match.kind === "method-not-allowed") throw methodNotAllowed(method, match.allow);
      const context: RequestContext = { params: match.params, query: url.searchParams, readJson: () => readJson(request) };
      reply = await match.route.handler(context);
    } catch (error) {
      reply = errorReply(error);
      if (reply.status >= 500 && !(error instanceof HttpError)) {
        log.error("request failed", { method, path: url.pathname, ...errorFields(error) });
      }
    }
    // While draining, ask keep-alive clients to reconnect: their next connection lands on a pod that stays.
    if (draining) reply = { ...reply, headers: { ...reply.headers, connection: "close" } };
    send(response, reply);
    stopTimer({ status_code: String(reply.status) });
  }

  return {
    handle,
    startDraining: () => {
      draining = true;
    },
  };
}

function errorReply(error: unknown): Reply {
  if (error instanceof HttpError) {
    const body = { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
    return { status: error.status, body, headers: error.headers };
  }
  // Unexpected errors are logged with their stack; the client gets no internals.
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error" } } };
}

function send(response: ServerResponse, reply: Reply): void {
  const payload = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
  const contentType = reply.contentType ?? (reply.text === undefined ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
  response.writeHead(reply.status, {
    ...reply.headers,
    "content-type": contentType,
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
  });
  response.end(payload);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const contentType = request.headers["content-type"];
  if (contentType === undefined || !/^application\/json\s*(;|$)/i.test(contentType)) {
    throw unsupportedMediaType(contentType);
  }
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    // Chunked uploads carry no Content-Length, so the limit is also enforced while reading.
    if (size > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidJson(error instanceof Error ? error.message : String(error));
  }
}
