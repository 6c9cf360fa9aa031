import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Socket } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts itself some time later
 * (PostgreSQL binds it after initdb, seconds on a loaded machine), or for a peer that must refuse.
 *
 * Taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default), where
 * no listen(0) and no outgoing connection on the machine takes its port: a port from listen(0) goes back to
 * that pool when the probe closes, and any other test's server started with port 0 meanwhile may get it
 * (Linux gives listen(0) a random odd port of the range: about one chance in 14,000 per such server, with
 * many started per second by the suite). Only callers of this function pick from the range below, and the
 * probe skips a port one of them holds. Where the range cannot be read (not Linux): listen(0) as before.
 */
export async function freePort(): Promise<number> {
  const first = ephemeralStart();
  if (first !== undefined && first > LOWEST + 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = randomInt(LOWEST, first);
      if (handedOut.has(port)) continue;
      // Reserved before the probe, so a concurrent call does not probe and return the same port.
      handedOut.add(port);
      if (await canListen(port)) return port;
    }
  }
  return listenZero();
}

/** The lowest port freePort picks: above the registered ports most services listen on. */
const LOWEST = 20_000;
/** Ports this process handed out: two servers of one file never get the same one. */
const handedOut = new Set<number>();

function ephemeralStart(): number | undefined {
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function listenZero(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A TCP server on 127.0.0.1 that accepts every connection and never says anything: a hung peer. */
export async function silentPeer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
