import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Config } from './config/config.js';
import type { Logger } from './logging/createLogger.js';
import { createApp } from './app.js';
import { createRuntime, type Runtime } from './runtime.js';
import { createMetrics } from './metrics/createMetrics.js';
import { configuredChecks, configuredSecrets } from './checks/configuredChecks.js';
import { loadOrCreateAdminCredential } from './admin/adminCredential.js';
import { BackgroundChecker } from './admin/BackgroundChecker.js';
import type { Env } from './admin/candidateConfig.js';
import { setBodyIdleTimeout } from './wopi/requestBody.js';

/** A running bridge: its HTTP server, runtime and base URL. */
export interface RunningBridge {
  server: Server;
  runtime: Runtime;
  /** http://host:port actually bound (port 0 resolved). */
  url: string;
  /** The background checks (started once listening; stopped by stop()). */
  checker: BackgroundChecker;
  /** The admin password generated at this, the first, start: for main.ts to print once. Null otherwise. */
  firstStartAdminPassword: string | null;
  /**
   * Stops accepting, waits for the requests in flight (at most drainMs) — not for idle keep-alive connections,
   * which are closed — then closes storage and state.
   */
  stop(drainMs?: number): Promise<void>;
  /** Requests in flight: received, and not yet both answered and finished by their handler. */
  inFlight(): number;
}

/** Options of {@link startBridge}. */
export interface StartOptions {
  /**
   * The environment the configuration was loaded from (main passes process.env): the admin page shows these
   * settings as locked, and builds candidate settings under it. Default: none.
   */
  env?: Env;
  /** Time between background check runs in ms (tests shrink it); default CHECK_INTERVAL_MINUTES; 0 = off. */
  checkIntervalMs?: number;
  /** Delay of the first background run in ms; default the smaller of the interval and one minute. */
  firstCheckDelayMs?: number;
  /** Folder the admin page is served from (tests); default `admin-ui/` of the package. */
  adminUiDir?: string;
}

/**
 * Starts the bridge: admin credential (generated on first start), runtime (drive + state), app, HTTP server on
 * config.host:config.port, then the background checks.
 * @param config validated configuration
 * @param log root logger
 * @param options environment, background check timing, admin page folder
 */
export async function startBridge(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningBridge> {
  const admin = await loadOrCreateAdminCredential(config);
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, log);
  } catch (e) {
    await admin.rollback(); // a password nobody saw must not stay in force
    throw e;
  }
  const metrics = createMetrics();
  const checker = new BackgroundChecker({
    checks: () => configuredChecks(config, runtime.driveAccess, { state: runtime.state }),
    secrets: [...configuredSecrets(config, runtime.driveAccess), config.adminPassword],
    intervalMs: options.checkIntervalMs ?? config.checkIntervalMinutes * 60_000,
    ...(options.firstCheckDelayMs !== undefined ? { firstRunDelayMs: options.firstCheckDelayMs } : {}),
    log: log.child({ component: 'checks' }),
    metrics,
  });
  const app = createApp({
    config,
    log,
    ...runtime,
    metrics,
    admin: {
      credential: admin.credential,
      checker,
      driveAccess: runtime.driveAccess,
      embeddedDrive: runtime.embedded !== null,
      env: options.env ?? {},
      ...(options.adminUiDir !== undefined ? { adminUiDir: options.adminUiDir } : {}),
    },
  });
  const handle = app.callback();
  // A request is in flight from its arrival until both its response has closed and its handler has returned (a
  // handler may still clean up after its client left): shutdown waits for these, not for connections.
  const inFlight = new Set<ServerResponse>();
  // Connections, and how many requests each has in flight. While stopping, a connection with none — idle between
  // requests, or still sending the headers of one that was never accepted — is closed at once instead of holding
  // the shutdown until the drain limit.
  const connections = new Map<Socket, number>();
  const closeConnectionsWithoutRequests = (): void => {
    for (const [socket, busy] of connections) if (busy === 0) socket.destroy();
  };
  let draining = false;
  let onSettled: (() => void) | null = null;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    setBodyIdleTimeout(req, config.http.bodyIdleTimeoutMs);
    // While stopping, every answer closes its connection (a kept-alive one would hold the shutdown).
    if (draining) res.shouldKeepAlive = false;
    inFlight.add(res);
    const socket = req.socket;
    connections.set(socket, (connections.get(socket) ?? 0) + 1);
    let pending = 2;
    const settle = (): void => {
      if (--pending > 0) return;
      inFlight.delete(res);
      const busy = connections.get(socket);
      if (busy !== undefined) connections.set(socket, busy - 1);
      if (draining) {
        // The connection is idle only once Node has finished the response's bookkeeping.
        setImmediate(closeConnectionsWithoutRequests);
        onSettled?.();
      }
    };
    res.once('close', settle);
    // Koa's handler does not reject (its onerror answers); the count stays right if it ever did.
    handle(req, res).then(settle, (e: unknown) => {
      log.error({ err: e }, 'request handler failed');
      settle();
    });
  };
  const { headersTimeoutMs, requestTimeoutMs } = config.http;
  const server = createServer(
    {
      // Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval (30 s by default).
      connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
      // Node requires headersTimeout <= requestTimeout (0 = no request timeout).
      headersTimeout: requestTimeoutMs > 0 ? Math.min(headersTimeoutMs, requestTimeoutMs) : headersTimeoutMs,
      // The whole request (headers and body) within REQUEST_TIMEOUT_MS: a body dripped a byte at a time never trips
      // the idle timeouts, and would hold the file's save for as long as it likes.
      requestTimeout: requestTimeoutMs,
    },
    onRequest,
  );
  server.on('connection', (socket: Socket) => {
    connections.set(socket, 0);
    socket.once('close', () => connections.delete(socket));
    if (draining) socket.destroy();
  });
  // DS sends one request per connection burst; keep-alive longer than a typical proxy's.
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await runtime.close();
    await admin.rollback();
    throw e;
  }
  checker.start();
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let stopping: Promise<void> | null = null;
  return {
    server,
    runtime,
    url: `http://${host}:${addr.port}`,
    checker,
    firstStartAdminPassword: admin.generatedPassword,
    inFlight: () => inFlight.size,
    stop: (drainMs = 30_000) =>
      (stopping ??= (async () => {
        draining = true;
        const checksStopped = checker.stop();
        // Answers not yet begun close their connection (DS keeps its connections alive).
        for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        closeConnectionsWithoutRequests();
        log.info({ inFlight: inFlight.size }, 'draining');
        const settled = new Promise<void>((resolve) => {
          onSettled = () => {
            if (inFlight.size === 0) resolve();
          };
          onSettled();
        });
        // A response whose headers went out before the signal may still leave its connection idle: sweep.
        const sweep = setInterval(closeConnectionsWithoutRequests, 250);
        let limit: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          Promise.all([closed, settled]).then(() => false),
          new Promise<boolean>((resolve) => {
            limit = setTimeout(() => resolve(true), drainMs);
          }),
        ]);
        clearTimeout(limit);
        clearInterval(sweep);
        if (timedOut) {
          log.warn({ inFlight: inFlight.size, drainMs }, 'drain limit reached; closing the remaining connections');
          server.closeAllConnections();
        }
        await checksStopped;
        await runtime.close();
      })()),
  };
}
