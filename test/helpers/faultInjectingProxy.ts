/**
 * Test helper: an HTTP proxy in front of a WebDAV server that injects faults chosen per request — a status
 * instead of the upstream's (after forwarding the request, so the upstream did the work, or without forwarding),
 * a stall (the request is read, no answer ever comes), or an answer whose headers come and whose body stalls.
 * Everything else is forwarded untouched. Listens on 127.0.0.1, port 0.
 *
 * @module
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What to do with one request. */
export type Fault =
  /** Answer `status` (with a small body). `forward: true` sends the request upstream first and replaces its answer. */
  | { kind: 'status'; status: number; forward?: boolean }
  /** Read the request, never answer (until the proxy is closed or `release()` is called). */
  | { kind: 'stall' }
  /** Forward, send the upstream's status and headers, then stall the body (never end it). */
  | { kind: 'stallBody' };

/** One request the proxy saw, and the fault it applied. */
export interface ProxiedRequest {
  method: string;
  url: string;
  fault: Fault | null;
  /** Upstream status when forwarded (null when not forwarded or when the upstream failed). */
  upstreamStatus: number | null;
}

export interface FaultInjectingProxy {
  /** Base URL: the proxy's origin plus the upstream's path. */
  url: string;
  /** Chooses the fault for each request; null = forward untouched. Change it at any time. */
  rule: (req: IncomingMessage) => Fault | null;
  /** Every request seen, in arrival order. */
  readonly seen: ProxiedRequest[];
  /** Destroys every stalled request's socket. */
  release(): void;
  close(): Promise<void>;
}

/**
 * Starts the proxy.
 * @param upstream base URL of the real server, e.g. http://127.0.0.1:4000/dav
 */
export async function startFaultInjectingProxy(upstream: string): Promise<FaultInjectingProxy> {
  const up = new URL(upstream);
  const stalled = new Set<Socket>();
  const seen: ProxiedRequest[] = [];

  const forward = (req: IncomingMessage, onAnswer: (upRes: IncomingMessage) => void, onFail: () => void): void => {
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: up.host };
    // A MOVE's Destination names the proxy; the upstream refuses a destination on another server.
    if (typeof headers.destination === 'string') headers.destination = headers.destination.replace(/^https?:\/\/[^/]+/, up.origin);
    const fwd = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers, agent: false }, onAnswer);
    fwd.on('error', onFail);
    req.on('aborted', () => fwd.destroy());
    req.pipe(fwd);
  };

  const stall = (res: ServerResponse): void => {
    const socket = res.socket;
    if (socket) {
      stalled.add(socket);
      socket.once('close', () => stalled.delete(socket));
    }
  };

  const server: Server = createServer((req, res) => {
    const fault = proxy.rule(req);
    const record: ProxiedRequest = { method: req.method ?? '', url: req.url ?? '', fault, upstreamStatus: null };
    seen.push(record);
    if (fault === null) {
      forward(
        req,
        (upRes) => {
          record.upstreamStatus = upRes.statusCode ?? null;
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
        () => res.destroy(),
      );
      return;
    }
    switch (fault.kind) {
      case 'status': {
        const answer = (): void => {
          if (res.headersSent || res.destroyed) return;
          res.writeHead(fault.status, { 'Content-Type': 'text/plain', Connection: 'close' });
          res.end(`injected ${fault.status}\n`);
        };
        if (fault.forward) {
          forward(
            req,
            (upRes) => {
              record.upstreamStatus = upRes.statusCode ?? null;
              upRes.resume();
              upRes.on('end', answer);
            },
            answer,
          );
        } else {
          req.resume();
          req.on('end', answer);
        }
        return;
      }
      case 'stall':
        req.resume();
        stall(res);
        return;
      case 'stallBody':
        forward(
          req,
          (upRes) => {
            record.upstreamStatus = upRes.statusCode ?? null;
            const headers = { ...upRes.headers };
            upRes.resume();
            res.writeHead(upRes.statusCode ?? 502, headers);
            // The first bytes of a body, then nothing more.
            res.write(' ');
            stall(res);
          },
          () => res.destroy(),
        );
        return;
    }
  });

  const proxy: FaultInjectingProxy = {
    url: '',
    rule: () => null,
    seen,
    release() {
      for (const s of stalled) s.destroy();
      stalled.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.release();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${up.pathname.replace(/\/+$/, '')}`;
  return proxy;
}
