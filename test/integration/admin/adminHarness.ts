/**
 * Harness of the admin API tests: a real bridge started the way main.ts starts it (loadEffectiveConfig over an
 * environment, then startBridge with that environment, so env-locked settings behave as in production), and a
 * small HTTP client that keeps the session cookie and CSRF token and records every response body, so a test can
 * scan all of them for secrets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadEffectiveConfig } from '../../../connector/src/config/loadEffectiveConfig.js';
import type { Config } from '../../../connector/src/config/config.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { startBridge, type RunningBridge, type StartOptions } from '../../../connector/src/server.js';
import { freePort } from '../../helpers/processes.js';
import { LogSink } from '../../helpers/testBridge.js';

/** The admin password the harness configures unless told otherwise. */
export const ADMIN_PASSWORD = 'admin-password-for-tests-0123';

export interface AdminBridge {
  url: string;
  config: Config;
  bridge: RunningBridge;
  logs: LogSink;
  dataDir: string;
  /** The environment the bridge was started with. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts a bridge like main.ts does (settings file under the environment).
 * @param env environment (ADMIN_PASSWORD defaults to {@link ADMIN_PASSWORD}; PORT, PUBLIC_URL, DATA_DIR filled in)
 * @param options startBridge options (check interval, admin page folder)
 * @param dataDir reuse a data folder
 */
export async function startAdminBridge(env: Record<string, string> = {}, options: StartOptions = {}, dataDir?: string): Promise<AdminBridge> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'wopi-admin-test-')));
  const port = env.PORT ?? String(await freePort());
  const fullEnv: Record<string, string> = {
    PORT: port,
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dir,
    LOG_LEVEL: 'debug',
    ADMIN_PASSWORD,
    ...env,
  };
  for (const [k, v] of Object.entries(fullEnv)) if (v === '') delete fullEnv[k];
  const { config } = await loadEffectiveConfig(fullEnv);
  const logs = new LogSink();
  const log = createLogger(config.logLevel, logs);
  const bridge = await startBridge(config, log, { env: fullEnv, checkIntervalMs: 0, ...options });
  return {
    url: bridge.url,
    config,
    bridge,
    logs,
    dataDir: dir,
    env: fullEnv,
    async stop() {
      await bridge.stop(2000);
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A response as the tests look at it. */
export interface AdminResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (throws when it is not). */
  json<T = Record<string, unknown>>(): T;
}

/** Options of one request. */
export interface RequestOptions {
  body?: unknown;
  /** Raw body (sent as is, with the given content type). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Send the session's CSRF token (default true when signed in). */
  csrf?: boolean;
  /** Origin header; default the bridge's own origin on POST; null = none. */
  origin?: string | null;
  /** Send the cookie (default true). */
  cookie?: boolean;
}

/** Every response body any client received in this test file (for the secret scans). */
export const ALL_BODIES: string[] = [];

/** A browser-like client of the admin API. */
export class AdminClient {
  cookie: string | null = null;
  csrfToken: string | null = null;
  lastSetCookie: string | null = null;

  constructor(readonly base: string) {}

  async request(method: string, p: string, o: RequestOptions = {}): Promise<AdminResponse> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.cookie !== false && this.cookie !== null) headers.Cookie = `wb_admin=${this.cookie}`;
    if (method !== 'GET') {
      const origin = o.origin === undefined ? this.base : o.origin;
      if (origin !== null) headers.Origin = origin;
      if (o.csrf !== false && this.csrfToken !== null) headers['X-CSRF-Token'] = this.csrfToken;
    }
    let body: string | undefined;
    if (o.raw !== undefined) {
      body = o.raw;
      headers['Content-Type'] = o.contentType ?? 'application/json';
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(`${this.base}${p}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    ALL_BODIES.push(text);
    const setCookie = res.headers.get('set-cookie');
    if (setCookie !== null) this.lastSetCookie = setCookie;
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: <T,>() => JSON.parse(text) as T,
    };
  }

  get(p: string, o: RequestOptions = {}): Promise<AdminResponse> {
    return this.request('GET', p, o);
  }

  post(p: string, body?: unknown, o: RequestOptions = {}): Promise<AdminResponse> {
    return this.request('POST', p, { ...o, ...(body !== undefined ? { body } : {}) });
  }

  /** Signs in; keeps the cookie and the CSRF token. */
  async login(password: string = ADMIN_PASSWORD): Promise<AdminResponse> {
    const res = await this.post('/admin/api/login', { password });
    if (res.status === 200) {
      const m = /wb_admin=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
      this.cookie = m?.[1] ?? null;
      this.csrfToken = res.json<{ csrfToken: string }>().csrfToken;
    }
    return res;
  }
}

/** Secrets must not appear in any of these texts. */
export function expectNoSecrets(texts: readonly string[], secrets: readonly string[]): void {
  for (const s of secrets) {
    const hit = texts.find((t) => t.includes(s));
    expect(hit === undefined ? 'none' : `a body contains the secret ${s.slice(0, 3)}…`).toBe('none');
  }
}
