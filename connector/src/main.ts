import { ConfigError } from './config/loadConfig.js';
import { loadEffectiveConfig } from './config/loadEffectiveConfig.js';
import { publicConfig } from './config/publicConfig.js';
import { createLogger } from './logging/createLogger.js';
import { startBridge } from './server.js';
import { keepYoungGenerationSmall } from './http/streamGc.js';

/** Entry point of `npm start`: config → logger → bridge → listen; SIGTERM/SIGINT drain and exit. */
async function main(): Promise<void> {
  keepYoungGenerationSmall();
  let config;
  let sharedProblem: string | null = null;
  try {
    ({ config, sharedProblem } = await loadEffectiveConfig(process.env));
  } catch (e) {
    process.stderr.write(`wopi-bridge: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger(config.logLevel);
  if (sharedProblem !== null) log.warn({ problem: sharedProblem }, 'shared settings not applied');
  const bridge = await startBridge(config, log, { env: process.env }).catch((e: unknown) => {
    log.fatal({ err: e }, 'cannot start');
    process.stderr.write(`wopi-bridge: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  });
  // Handlers first: the banner means ready, and a supervisor may signal right after it.
  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    bridge.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  log.info({ url: bridge.url, config: publicConfig(config) }, 'listening');
  const lines = [
    `wopi-bridge listening on ${bridge.url}`,
    `  WOPI endpoint:  ${config.publicUrl}/wopi/files/<fileId>`,
    `  health:         ${bridge.url}/healthz`,
    bridge.runtime.filesDir !== null
      ? `  drive:          embedded WebDAV over ${bridge.runtime.filesDir} (at ${bridge.runtime.embedded?.url})`
      : `  drive:          ${config.storage.url} (${bridge.runtime.flavour})`,
    `  data folder:    ${config.dataDir}`,
    `  get a token:    npx wopi-bridge token /Welcome.docx`,
  ];
  if (bridge.firstStartAdminPassword !== null) {
    // Shown this once (only its hash is kept); never logged.
    lines.push(
      `admin password (shown once): ${bridge.firstStartAdminPassword}`,
      `  sign in at ${config.publicUrl}/admin; set ADMIN_PASSWORD to choose one, or delete ${config.dataDir}/admin.json and restart for a new one`,
    );
  }
  process.stderr.write(lines.join('\n') + '\n');
}

void main();
