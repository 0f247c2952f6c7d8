import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config.js';
import type { Logger } from './logging/createLogger.js';
import { createApp } from './app.js';
import { createRuntime, type Runtime } from './runtime.js';
import { createMetrics } from './metrics/createMetrics.js';
import { configuredChecks, configuredSecrets } from './checks/configuredChecks.js';
import { loadOrCreateAdminCredential } from './admin/adminCredential.js';
import { BackgroundChecker } from './admin/BackgroundChecker.js';
import type { Env } from './admin/candidateConfig.js';

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
  /** Stops accepting, waits for requests in flight (at most drainMs), then closes storage and state. */
  stop(drainMs?: number): Promise<void>;
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
    stop: (drainMs = 30_000) =>
      (stopping ??= (async () => {
        await checker.stop();
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
