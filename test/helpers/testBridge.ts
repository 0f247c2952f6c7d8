import { startRcloneWebdav, type RcloneWebdav } from './rcloneWebdav.js';
import { freePort } from './processes.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type GeneratedSecrets } from '../../connector/src/config/loadConfig.js';
import type { Config } from '../../connector/src/config/config.js';
import { createLogger } from '../../connector/src/logging/createLogger.js';
import { startBridge, type RunningBridge } from '../../connector/src/server.js';
import { issueAccessToken } from '../../connector/src/tokens/accessToken.js';

/** Collects every JSON log line the bridge writes. */
export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(line);
      this.emit('line', line);
    }
    cb();
  }
  /** Parsed lines. */
  entries(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export interface TestBridge {
  url: string;
  config: Config;
  bridge: RunningBridge;
  logs: LogSink;
  dataDir: string;
  /** Stats a path on the drive, assigns its id and issues a token, like `wopi-bridge token`. */
  open(filePath: string, opts?: { user?: string; canWrite?: boolean }): Promise<{ fileId: string; token: string; src: string; url: (suffix?: string) => string }>;
  stop(): Promise<void>;
}

export const TEST_SECRETS: GeneratedSecrets = {
  tokenSecret: 'test-token-secret-0123456789abcdef0123456789abcdef',
  embeddedPassword: 'embedded-test-password',
};

/**
 * Starts a real bridge (runtime, app, HTTP server on a free port) over the embedded drive, or over the WebDAV URL
 * in env.STORAGE_URL. Logs go to a sink the test can read.
 * @param env extra environment (STORAGE_URL, LOCK_TTL_SECONDS, …)
 * @param dataDir reuse a data folder (restart tests); a fresh temp folder otherwise
 */
export async function startTestBridge(env: Record<string, string> = {}, dataDir?: string): Promise<TestBridge> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'wopi-bridge-test-')));
  const logs = new LogSink();
  let fullEnv: Record<string, string>;
  let config: Config;
  let bridge: RunningBridge;
  for (let attempt = 1; ; attempt++) {
    // A real port up front, so PUBLIC_URL (and every URL the bridge hands out) names it.
    const port = env.PORT ?? String(await freePort());
    fullEnv = { PORT: port, PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: dir, LOG_LEVEL: 'debug', ...env };
    config = loadConfig(fullEnv, TEST_SECRETS);
    const log = createLogger(config.logLevel, logs);
    try {
      // The environment is passed on as main.ts does, so the admin page reports what it sets as locked.
      bridge = await startBridge(config, log, { env: fullEnv });
      break;
    } catch (e) {
      // The free port was taken between freePort() and listen (parallel test files open loopback connections, whose
      // source ports come from the same range): another one. startBridge has closed what it opened.
      if (env.PORT !== undefined || (e as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw e;
    }
  }
  const wopiBase = `${bridge.url}/wopi/files`;
  return {
    url: bridge.url,
    config,
    bridge,
    logs,
    dataDir: dir,
    async open(filePath, opts = {}) {
      const info = await bridge.runtime.storage.stat(filePath);
      const fileId = await bridge.runtime.files.idFor(info);
      const { token } = issueAccessToken(config.tokens.secret, { userId: opts.user ?? 'alice', fileId, canWrite: opts.canWrite ?? true }, 3600);
      const src = `${wopiBase}/${fileId}`;
      return { fileId, token, src, url: (suffix = '') => `${src}${suffix}?access_token=${token}` };
    },
    async stop() {
      await bridge.stop(2000);
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Direct access to the drive behind a bridge, bypassing it (another WebDAV client, e.g. Nextcloud's web UI). */
export interface RawDrive {
  put(filePath: string, body: Buffer): Promise<number>;
  /** The file's bytes, or null when it does not exist. */
  get(filePath: string): Promise<Buffer | null>;
  /** Names in a folder (Depth 1), decoded. */
  list(folder?: string): Promise<string[]>;
}

/** A RawDrive on the bridge's drive (its embedded server, or STORAGE_URL). */
export function rawDrive(tb: TestBridge): RawDrive {
  const emb = tb.bridge.runtime.embedded;
  const base = emb?.url ?? (tb.config.storage.url as string);
  const user = emb?.username ?? tb.config.storage.username;
  const pass = emb?.password ?? tb.config.storage.password;
  const auth: Record<string, string> = user !== null ? { Authorization: `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}` } : {};
  const urlOf = (p: string): string => base + p.split('/').map(encodeURIComponent).join('/');
  return {
    async put(p, body) {
      const res = await fetch(urlOf(p), { method: 'PUT', headers: { ...auth, 'Content-Length': String(body.length) }, body });
      await res.arrayBuffer();
      return res.status;
    },
    async get(p) {
      const res = await fetch(urlOf(p), { headers: auth });
      if (res.status === 404) {
        await res.arrayBuffer();
        return null;
      }
      if (res.status !== 200) throw new Error(`GET ${p}: ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    },
    async list(folder = '/') {
      const res = await fetch(urlOf(folder), { method: 'PROPFIND', headers: { ...auth, Depth: '1' } });
      const xml = await res.text();
      const hrefs = [...xml.matchAll(/<(?:[A-Za-z0-9]+:)?href>([^<]*)<\/(?:[A-Za-z0-9]+:)?href>/g)].map((m) => m[1] as string);
      const names = hrefs
        .map((h) => h.replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/\/+$/, ''))
        .map((h) => h.split('/').pop() ?? '')
        .map((n) => {
          try {
            return decodeURIComponent(n);
          } catch {
            return n;
          }
        });
      return names.slice(1);
    },
  };
}

/** The drives WOPI tests run against: the embedded default and Debian's rclone (an independent WebDAV server). */
export const DRIVE_TARGETS = ['embedded', 'rclone'] as const;
export type DriveTarget = (typeof DRIVE_TARGETS)[number];

/**
 * Starts a bridge over a target drive. For 'rclone' a fresh `rclone serve webdav` is started and stopped with it.
 * @param target which drive
 * @param env extra environment for the bridge
 */
export async function startBridgeOn(target: DriveTarget, env: Record<string, string> = {}): Promise<TestBridge> {
  if (target === 'embedded') return startTestBridge(env);
  const rclone: RcloneWebdav = await startRcloneWebdav();
  try {
    const tb = await startTestBridge({ STORAGE_URL: rclone.url, STORAGE_USER: rclone.user, STORAGE_PASSWORD: rclone.pass, STORAGE_FLAVOUR: 'auto', ...env });
    const stop = tb.stop.bind(tb);
    tb.stop = async () => {
      await stop();
      await rclone.stop();
    };
    return tb;
  } catch (e) {
    await rclone.stop();
    throw e;
  }
}

