/** A route of the api: an HTTP method, a path pattern such as `/orders/:id`, and what handles it. */
export interface Route<H> {
  method: string;
  path: string;
  handler: H;
}

export type RouteMatch<H> =
  | { kind: "found"; route: Route<H>; params: Record<string, string> }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "not-found" };

/**
 * Finds the route for a request. A path that exists under other methods gives
 * method-not-allowed with the methods to put in the Allow header (RFC 9110 §15.5.6),
 * and HEAD is served by the GET route, as RFC 9110 §9.3.2 expects.
 */
export function matchRoute<H>(routes: readonly Route<H>[], method: string, pathname: string): RouteMatch<H> {
  const segments = splitPath(pathname);
  if (segments === undefined) return { kind: "not-found" };

  const allow = new Set<string>();
  for (const route of routes) {
    const params = matchSegments(splitPattern(route.path), segments);
    if (params === undefined) continue;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) {
      return { kind: "found", route, params };
    }
    allow.add(route.method);
    if (route.method === "GET") allow.add("HEAD");
  }
  if (allow.size === 0) return { kind: "not-found" };
  return { kind: "method-not-allowed", allow: [...allow].sort() };
}

function splitPattern(pattern: string): string[] {
  return pattern.split("/").filter((segment) => segment !== "");
}

// Empty segments are dropped so `/orders/` and `/orders` are the same resource.
// A malformed percent-encoding cannot name any resource, so it is a miss, not a crash.
function splitPath(pathname: string): string[] | undefined {
  try {
    return pathname
      .split("/")
      .filter((segment) => segment !== "")
      .map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index] as string;
    if (part.startsWith(":")) {
      params[part.slice(1)] = segment;
    } else if (part !== segment) {
      return undefined;
    }
  }
  return params;
}
