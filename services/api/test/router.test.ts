import { describe, expect, it } from "vitest";
import { matchRoute } from "../src/http/router.js";
import type { Route } from "../src/http/router.js";

const routes: Route<string>[] = [
  { method: "GET", path: "/healthz", handler: "health" },
  { method: "POST", path: "/orders", handler: "create" },
  { method: "GET", path: "/orders", handler: "list" },
  { method: "GET", path: "/orders/:id", handler: "get" },
  { method: "PATCH", path: "/orders/:id", handler: "update" },
];

describe("services/api/src/http/router", () => {
  it.each([
    { method: "GET", path: "/healthz", handler: "health", params: {} },
    { method: "GET", path: "/orders", handler: "list", params: {} },
    { method: "POST", path: "/orders", handler: "create", params: {} },
    { method: "GET", path: "/orders/", handler: "list", params: {} },
    { method: "GET", path: "/orders/abc", handler: "get", params: { id: "abc" } },
    { method: "PATCH", path: "/orders/abc", handler: "update", params: { id: "abc" } },
    { method: "HEAD", path: "/orders/abc", handler: "get", params: { id: "abc" } },
    { method: "GET", path: "/orders/a%20b", handler: "get", params: { id: "a b" } },
  ])("$method $path → $handler $params", ({ method, path, handler, params }) => {
    expect(matchRoute(routes, method, path)).toMatchObject({ kind: "found", route: { handler }, params });
  });

  it.each([
    { method: "DELETE", path: "/orders", allow: ["GET", "HEAD", "POST"] },
    { method: "POST", path: "/orders/abc", allow: ["GET", "HEAD", "PATCH"] },
    { method: "POST", path: "/healthz", allow: ["GET", "HEAD"] },
  ])("$method $path → 405 allowing $allow", ({ method, path, allow }) => {
    expect(matchRoute(routes, method, path)).toEqual({ kind: "method-not-allowed", allow });
  });

  it.each([
    { path: "/" },
    { path: "/order" },
    { path: "/orders/abc/items" },
    { path: "/healthz/extra" },
    // Malformed percent-encoding names nothing; it must not throw.
    { path: "/orders/%E0%A4%A" },
  ])("GET $path → not found", ({ path }) => {
    expect(matchRoute(routes, "GET", path)).toEqual({ kind: "not-found" });
  });
});
