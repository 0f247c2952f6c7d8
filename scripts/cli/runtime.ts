/**
 * The configuration, logger, state store and drive as the CLI opens them: the same configuration as the server
 * (environment over the settings file over generated secrets), logs as JSON lines on stderr.
 */
import path from 'node:path';
import { pino } from 'pino';
import type { Config } from '../../connector/src/config/config.js';
import { loadEffectiveConfig, type EffectiveConfig } from '../../connector/src/config/loadEffectiveConfig.js';
import { createLogger, type Logger } from '../../connector/src/logging/createLogger.js';
import { StorageError } from '../../connector/src/storage/StorageAdapter.js';
import { issueAccessToken } from '../../connector/src/tokens/accessToken.js';
import { SqliteStateStore } from '../../connector/src/state/SqliteStateStore.js';
import type { StateStore } from '../../connector/src/state/StateStore.js';
import type { Cli } from './context.js';
import { CommandFailure, EXIT, type ExitCode } from './exitCodes.js';

/**
 * Loads the configuration the server uses.
 * @throws ConfigError listing every problem (the dispatcher prints it and exits 3)
 */
export function loadCliConfig(cli: Cli): Promise<EffectiveConfig> {
  return loadEffectiveConfig(cli.env);
}

/**
 * A logger writing JSON lines to stderr (stdout carries only results). `info` becomes `warn`: a one-shot command
 * has nothing to say at info level.
 * @param minLevel log at least this level whatever LOG_LEVEL says (an audit line must not be silenced)
 */
export function cliLogger(config: Config, minLevel?: 'warn'): Logger {
  const configured = config.logLevel === 'info' ? 'warn' : config.logLevel;
  const quieter = ['error', 'fatal', 'silent'].includes(configured);
  return createLogger(minLevel !== undefined && quieter ? minLevel : configured, pino.destination({ dest: 2, sync: true }));
}

/** The state database file of a data folder (as the server opens it). */
export function sqlitePath(config: Config): string {
  return path.join(config.dataDir, 'state.sqlite');
}

/**
 * Opens the state store the server uses: Redis when REDIS_URL is set, else the SQLite database in DATA_DIR.
 * (The drive is not opened: lock commands must work while the drive is down.)
 */
export async function openStateStore(config: Config): Promise<StateStore> {
  if (config.redisUrl === null) return new SqliteStateStore(sqlitePath(config));
  // Loaded only when used: the CLI starts faster without ioredis.
  const { createRedisStateStore } = await import('../../connector/src/state/RedisStateStore.js');
  return createRedisStateStore(config.redisUrl);
}

/** A file on the drive with a fresh access token, as `wopi-bridge token` prints it. */
export interface FileToken {
  /** The path with a leading slash. */
  path: string;
  fileId: string;
  token: string;
  /** access_token_ttl: expiry in ms since the epoch. */
  accessTokenTtl: number;
  canWrite: boolean;
  user: string;
}

/** The path as the drive knows it: with a leading slash. */
export function drivePath(raw: string): string {
  return raw.startsWith('/') ? raw : `/${raw}`;
}

/**
 * Stats a file on the configured drive, gives it its file id (the one the server uses) and issues an access token.
 * The drive is opened and closed again.
 * @param notFoundExit exit code when the path is not a file on the drive
 * @throws CommandFailure when the path does not exist or is a folder
 */
export async function issueFileToken(
  config: Config,
  log: Logger,
  rawPath: string,
  grant: { user: string; canWrite: boolean },
  notFoundExit: ExitCode = EXIT.WARNING,
): Promise<FileToken> {
  const filePath = drivePath(rawPath);
  // Loaded only when used: the drive's modules (webdav, webdav-server) take a second to load.
  const { createRuntime } = await import('../../connector/src/runtime.js');
  const runtime = await createRuntime(config, log, { discovery: false });
  try {
    let info;
    try {
      info = await runtime.storage.stat(filePath);
    } catch (e) {
      if (e instanceof StorageError && (e.kind === 'not_found' || e.kind === 'forbidden')) {
        throw new CommandFailure(`${filePath}: no such file on the drive`, notFoundExit);
      }
      throw e;
    }
    if (info.isDirectory) throw new CommandFailure(`${filePath} is a folder, not a file`, notFoundExit);
    const fileId = await runtime.files.idFor(info);
    const issued = issueAccessToken(config.tokens.secret, { userId: grant.user, userName: grant.user, fileId, canWrite: grant.canWrite }, config.tokens.ttlSeconds);
    return { path: filePath, fileId, token: issued.token, accessTokenTtl: issued.accessTokenTtl, canWrite: grant.canWrite, user: grant.user };
  } finally {
    await runtime.close();
  }
}

/** A user name for tokens: 1 to 100 printable characters. */
export function checkUserName(user: string): boolean {
  return /^[^\u0000-\u001f]{1,100}$/.test(user);
}
