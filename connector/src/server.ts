import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config.js';
import type { Logger } from './logging/createLogger.js';
import { createApp } from './app.js';
import { createRuntime, type Runtime } from './runtime.js';

/** A running bridge: its HTTP server, runtime and base URL. */
export interface RunningBridge {
  server: Server;
  runtime: Runtime;
  /** http://host:port actually bound (port 0 resolved). */
  url: string;
  /** Stops accepting, waits for requests in flight (at most drainMs), then closes storage and state. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * Starts the bridge: runtime (drive + state), app, HTTP server on config.host:config.port.
 * @param config validated configuration
 * @param log root logger
 */
export async function startBridge(config: Config, log: Logger): Promise<RunningBridge> {
  const runtime = await createRuntime(config, log);
  const app = createApp({ config, log, ...runtime });
  const server = createServer(app.callback());
  // DS sends one request per connection burst; keep-alive longer than a typical proxy's.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // large uploads may take long; the drive's idle timeout bounds stalls
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
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let stopping: Promise<void> | null = null;
  return {
    server,
    runtime,
    url: `http://${host}:${addr.port}`,
    stop: (drainMs = 30_000) =>
      (stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            server.closeAllConnections();
          }, drainMs);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        });
        await runtime.close();
      })()),
  };
}
