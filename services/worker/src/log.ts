export type Fields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

/** One JSON object per line on stdout, which is what the cluster's log collector expects. */
export function createLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  function emit(level: string, message: string, fields: Fields = {}): void {
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
  }
  return {
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}

export function errorFields(error: unknown): Fields {
  if (error instanceof Error) return { error: error.message, stack: error.stack };
  return { error: String(error) };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
