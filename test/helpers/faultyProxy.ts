import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP proxy in front of a WebDAV server that can break uploads, to test storage failures mid-PutFile. */
export interface FaultyProxy {
  url: string;
  /** When set, a PUT is cut off (both connections destroyed) after this many body bytes were forwarded. */
  cutPutsAfter: number | null;
  /** Resolves when the next PUT has been cut. */
  nextCut(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 forwarding to `upstream` (keeps the path below the upstream's path).
 * @param upstream base URL of the real server, e.g. http://127.0.0.1:4000
 */
export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  const up = new URL(upstream);
  let waiters: Array<() => void> = [];
  const proxy: FaultyProxy = {
    url: '',
    cutPutsAfter: null,
    nextCut: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: up.host };
    // A MOVE's Destination names the proxy; the upstream refuses a destination on another server (502).
    if (typeof headers.destination === 'string') headers.destination = headers.destination.replace(/^https?:\/\/[^/]+/, up.origin);
    const fwd = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    fwd.on('error', () => res.destroy());
    const limit = req.method === 'PUT' ? proxy.cutPutsAfter : null;
    if (limit === null) {
      req.pipe(fwd);
      return;
    }
    let sent = 0;
    req.on('data', (chunk: Buffer) => {
      if (sent >= limit) return;
      const room = limit - sent;
      fwd.write(chunk.subarray(0, room));
      sent += Math.min(room, chunk.length);
      if (sent >= limit) {
        fwd.destroy();
        res.destroy();
        const w = waiters;
        waiters = [];
        for (const resolve of w) resolve();
      }
    });
    req.on('end', () => {
      if (sent < limit) fwd.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${up.pathname.replace(/\/+$/, '')}`;
  return proxy;
}
