/**
 * Every error the api answers with, one function per stable code. Clients branch on
 * `code`; `message` is for people; `details` names the offending values.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface Issue {
  path: string;
  message: string;
}

export function validationFailed(issues: Issue[]): HttpError {
  const noun = issues.length === 1 ? "problem" : "problems";
  return new HttpError(400, "VALIDATION_FAILED", `${issues.length} ${noun} with the request`, { issues });
}

export function invalidJson(reason: string): HttpError {
  return new HttpError(400, "INVALID_JSON", `request body is not valid JSON: ${reason}`);
}

export function unsupportedMediaType(contentType: string | undefined): HttpError {
  return new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", `expected Content-Type application/json, got ${contentType ?? "none"}`);
}

export function payloadTooLarge(limitBytes: number): HttpError {
  // The rest of the body is never read, so the connection cannot be reused.
  return new HttpError(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${limitBytes} bytes`, undefined, { connection: "close" });
}

export function notFound(what: string, id?: string): HttpError {
  return new HttpError(404, "NOT_FOUND", id === undefined ? `${what} not found` : `${what} ${id} not found`);
}

export function methodNotAllowed(method: string, allow: string[]): HttpError {
  return new HttpError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here; use ${allow.join(", ")}`, undefined, {
    allow: allow.join(", "),
  });
}

export function emailTaken(email: string): HttpError {
  return new HttpError(409, "EMAIL_TAKEN", `a customer with email ${email} already exists`);
}

export function customerNotFound(customerId: string): HttpError {
  return new HttpError(422, "CUSTOMER_NOT_FOUND", `customer ${customerId} does not exist`, { customerId });
}

export function invalidTransition(orderId: string, from: string, to: string, allowed: readonly string[]): HttpError {
  const next = allowed.length === 0 ? `${from} is final` : `from ${from} it can become ${allowed.join(" or ")}`;
  return new HttpError(409, "INVALID_STATUS_TRANSITION", `order ${orderId} cannot go from ${from} to ${to}: ${next}`, {
    from,
    to,
    allowed,
  });
}

export function databaseUnavailable(): HttpError {
  return new HttpError(503, "DATABASE_UNAVAILABLE", "the database is not connected yet; retry shortly", undefined, {
    "retry-after": "5",
  });
}
