export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Reads and parses the JSON body; throws the matching HttpError when it is not JSON. */
  readJson(): Promise<unknown>;
}

export interface Reply {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with contentType; used by /metrics. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (context: RequestContext) => Promise<Reply>;
