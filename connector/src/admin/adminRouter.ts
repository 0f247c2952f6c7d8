/**
 * The admin page and its JSON API (`/admin`, `/admin/assets/<file>`, `/admin/api/*`; see README.md here): sign-in,
 * the settings form's data, check runs on candidate settings (optionally saved), and the background checks' last
 * run. The API has its own auth: a session cookie from the password, a CSRF token and a same-origin test on every
 * POST. Bodies are parsed here only, never on /wopi.
 */
import { PassThrough } from 'node:stream';
import type { Context, Middleware, Next } from 'koa';
import { Router } from '@koa/router';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/loadConfig.js';
import { sealedSharedSettings } from '../config/loadEffectiveConfig.js';
import { mergeSharedSettings, readSettings, readSharedSettings, writeSettings, writeSharedSettings } from '../config/settingsFile.js';
import { ALL_CHECK_IDS, configuredChecks, configuredSecrets, type DriveAccess } from '../checks/configuredChecks.js';
import type { CheckResult } from '../checks/CheckResult.js';
import { DOCS_CHECK_IDS } from '../checks/docsChecks.js';
import { runChecks, type CheckDefinition, type CheckProgress, type CheckRun } from '../checks/runChecks.js';
import type { Logger } from '../logging/createLogger.js';
import type { StateStore } from '../state/StateStore.js';
import type { AdminCredential } from './adminCredential.js';
import { AdminAssets } from './adminAssets.js';
import { AdminBadRequestError, AdminNotFoundError, CsrfRejectedError, NotSignedInError, SettingsFileError, TooManySignInsError, WrongPasswordError } from './adminErrors.js';
import { contentSecurityPolicy, isAdminApiPath, isAdminPath, originOf } from './adminSecurityHeaders.js';
import { AdminSessions, isCsrfTokenValid, type AdminSession } from './AdminSessions.js';
import type { BackgroundChecker } from './BackgroundChecker.js';
import { applyUpdates, isSameConfig, loadCandidateConfig, normaliseUpdates, type Env } from './candidateConfig.js';
import { describeSettings } from './describeSettings.js';
import { LoginLimiter } from './LoginLimiter.js';
import { readJsonBody } from './readJsonBody.js';
import { isSameOriginRequest } from './requestOrigin.js';

/** Name of the admin session cookie. */
export const ADMIN_COOKIE = 'wb_admin';

/** What the admin routes need. */
export interface AdminDeps {
  /** The configuration in force. */
  config: Config;
  log: Logger;
  /** Where sessions live (shared between instances with Redis). */
  state: StateStore;
  credential: AdminCredential;
  /** The background checks (their last run and history). */
  checker: BackgroundChecker;
  /** How the running bridge reaches its drive (runtime.driveAccess). */
  driveAccess: DriveAccess;
  /** Whether the running bridge serves the embedded drive (runtime.embedded !== null). */
  embeddedDrive: boolean;
  /** The environment the configuration was loaded from: it wins over the settings file and locks those fields. */
  env: Env;
  /** Folder of the page's files (tests); default `admin-ui/` of the package. */
  adminUiDir?: string;
  /** Failed sign-in counter (tests pass a small one). */
  limiter?: LoginLimiter;
  /** Limit of one check run started from the page (ms); runChecks' default (60 s) when absent. */
  checkRunTimeoutMs?: number;
}

/** Body of POST /admin/api/checks. */
interface ChecksRequest {
  settings?: unknown;
  save?: boolean;
  only?: string[];
}

/** A progress line of the NDJSON answer. */
type ProgressLine =
  | { kind: 'started'; id: string; title?: string; done: number; total: number }
  | { kind: 'finished'; id: string; result: CheckResult; done: number; total: number };

const OPS: Record<string, string> = {
  'GET /admin/api/session': 'AdminSession',
  'POST /admin/api/login': 'AdminLogin',
  'POST /admin/api/logout': 'AdminLogout',
  'GET /admin/api/settings': 'AdminSettings',
  'POST /admin/api/checks': 'AdminChecks',
  'GET /admin/api/checks/last': 'AdminChecksLast',
};
const PUBLIC_ROUTES = new Set(['GET /admin/api/session', 'POST /admin/api/login']);
const DRIVE_CHECK_ID_SET = new Set(ALL_CHECK_IDS.filter((id) => !(DOCS_CHECK_IDS as readonly string[]).includes(id)));

/**
 * Builds the admin middleware: answers every `/admin` path (404 for unknown ones) and passes the rest on.
 * @param deps see {@link AdminDeps}
 */
export function adminRouter(deps: AdminDeps): Middleware {
  const { config, env } = deps;
  const sessions = new AdminSessions(deps.state);
  const limiter = deps.limiter ?? new LoginLimiter();
  const assets = new AdminAssets(deps.adminUiDir);
  const secureCookie = config.publicUrl.startsWith('https:');

  const setCookie = (ctx: Context, value: string, maxAgeSeconds: number): void => {
    // Written by hand: koa's cookies refuse `Secure` over plain HTTP, which is what a TLS-terminating proxy sends us.
    const parts = [`${ADMIN_COOKIE}=${value}`, 'Path=/admin', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
    if (secureCookie) parts.push('Secure');
    ctx.append('Set-Cookie', parts.join('; '));
  };

  /** Whether settings are shared between instances: with Redis, the state store holds them for everyone. */
  const sharing = config.redisUrl !== null;
  /** The shared settings with their secrets sealed at rest (see sealedSharedSettings). */
  const sharedSettings = sealedSharedSettings(deps.state, config.tokens.secret);

  /**
   * The saved settings as the next start of any instance loads them: this machine's file, replaced by the
   * shared values in Redis once an instance saved some (see mergeSharedSettings).
   * @throws ConfigError for an unusable settings file
   */
  const readSavedSettings = async (): Promise<Record<string, string>> => {
    const file = await readSettings(config.dataDir);
    return sharing ? mergeSharedSettings(file, await readSharedSettings(sharedSettings)) : file;
  };

  const readFileSettings = async (): Promise<Record<string, string>> => {
    try {
      return await readSavedSettings();
    } catch (e) {
      if (e instanceof ConfigError) throw new SettingsFileError(e.problems);
      throw e;
    }
  };

  /** Whether the settings file (with the environment) gives another configuration than the one in force. */
  const isRestartRequired = (file: Record<string, string>): boolean => {
    try {
      return !isSameConfig(loadCandidateConfig(config, env, file), config);
    } catch {
      return true;
    }
  };

  // ----- page

  const page = new Router({ prefix: '/admin' });
  const sendIndex = async (ctx: Context): Promise<void> => {
    ctx.state.op = 'AdminPage';
    const index = await assets.index();
    if (index === null) {
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'The admin page is not installed (admin-ui/index.html is missing).\n';
      return;
    }
    // Scripts may also come from the DS public URL saved for the next start (the page's browser → DS check).
    let saved: string | null = null;
    try {
      saved = originOf(loadCandidateConfig(config, env, await readSavedSettings()).docs.publicUrl);
    } catch {
      // an unusable settings file: the API reports it
    }
    ctx.set('Content-Security-Policy', contentSecurityPolicy([originOf(config.docs.publicUrl), saved]));
    ctx.type = index.contentType;
    ctx.body = index.body;
  };
  page.get('/', sendIndex);
  page.get('/assets/:file', async (ctx) => {
    ctx.state.op = 'AdminAsset';
    const asset = await assets.asset(String(ctx.params.file ?? ''));
    if (asset === null) throw new AdminNotFoundError();
    ctx.type = asset.contentType;
    ctx.body = asset.body;
  });
  const pageRoutes = page.routes();

  // ----- API

  const api = new Router({ prefix: '/admin/api' });

  api.get('/session', async (ctx) => {
    const session = await sessions.get(ctx.cookies.get(ADMIN_COOKIE));
    ctx.body = session ? { authenticated: true, csrfToken: session.csrfToken } : { authenticated: false };
  });

  api.post('/login', async (ctx) => {
    const address = ctx.ip;
    const wait = limiter.retryAfterSeconds(address);
    if (wait !== null) throw new TooManySignInsError(wait);
    const body = await readJsonBody(ctx as Context);
    const password = (body as { password?: unknown } | undefined)?.password;
    if (typeof password !== 'string' || password === '' || password.length > 1024) throw new AdminBadRequestError(400, 'Send {"password": "…"}');
    limiter.failed(address); // counted before the (slow) hash, so parallel guesses count too
    if (!(await deps.credential.verify(password))) throw new WrongPasswordError();
    limiter.succeeded(address);
    await sessions.revoke(ctx.cookies.get(ADMIN_COOKIE));
    const { id, session } = await sessions.create();
    setCookie(ctx as Context, id, Math.floor(sessions.lifetimeMs / 1000));
    ctx.state.log.info({ source: deps.credential.source }, 'admin signed in');
    ctx.body = { csrfToken: session.csrfToken };
  });

  api.post('/logout', async (ctx) => {
    await sessions.revoke(ctx.cookies.get(ADMIN_COOKIE));
    setCookie(ctx as Context, '', 0);
    ctx.body = { authenticated: false };
  });

  api.get('/settings', async (ctx) => {
    const file = await readFileSettings();
    ctx.body = { fields: describeSettings(file, env), restartRequired: isRestartRequired(file), sharedThroughRedis: sharing };
  });

  api.get('/checks/last', (ctx) => {
    ctx.body = deps.checker.snapshot();
  });

  api.post('/checks', async (ctx) => {
    await postChecks(ctx as Context);
  });
  const apiRoutes = api.routes();

  /** POST /admin/api/checks: candidate settings → config problems, or a check run (streamed as NDJSON on request). */
  const postChecks = async (ctx: Context): Promise<void> => {
    const request = parseChecksRequest(await readJsonBody(ctx));
    const ndjson = /\bapplication\/x-ndjson\b/i.test(ctx.get('Accept'));
    const problems: string[] = [];
    let file: Record<string, string> | null = null;
    try {
      file = await readSavedSettings();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
    const { updates, problems: updateProblems, ignored } = normaliseUpdates(request.settings, env);
    problems.push(...updateProblems);
    let candidate: Config | null = null;
    if (file !== null && problems.length === 0) {
      try {
        candidate = loadCandidateConfig(config, env, applyUpdates(file, updates));
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...e.problems);
      }
    }
    if (file === null || candidate === null) {
      const answer = { configProblems: problems, saved: false, restartRequired: file === null || isRestartRequired(file), ignored, run: null };
      if (ndjson) sendLines(ctx, [{ kind: 'done', ...answer }]);
      else ctx.body = answer;
      return;
    }
    let saved = false;
    if (request.save === true) {
      await writeSettings(config.dataDir, updates);
      // With Redis every instance loads them (at its next start; the page and checks read them at once).
      if (sharing) await writeSharedSettings(sharedSettings, updates, file);
      saved = true;
      ctx.state.log.info({ keys: Object.keys(updates), ignored, shared: sharing }, 'settings saved');
    }
    const restartRequired = saved ? !isSameConfig(candidate, config) : isRestartRequired(file);
    const drive = driveFor(candidate);
    const defs = checksFor(candidate, drive, adminPageUrl(ctx), request.only);
    const secrets = [
      ...configuredSecrets(candidate, drive ?? deps.driveAccess),
      ...configuredSecrets(config, deps.driveAccess),
      candidate.adminPassword,
      config.adminPassword,
    ];
    const abort = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) abort.abort();
    });
    const run = (onProgress?: (e: CheckProgress) => void): Promise<CheckRun> =>
      runChecks(defs, {
        secrets,
        signal: abort.signal,
        ...(onProgress ? { onProgress } : {}),
        ...(deps.checkRunTimeoutMs !== undefined ? { totalTimeoutMs: deps.checkRunTimeoutMs } : {}),
      });
    if (!ndjson) {
      ctx.body = { configProblems: [], saved, restartRequired, ignored, run: await run() };
      return;
    }
    const out = startLines(ctx);
    let done = 0;
    void run((e) => {
      if (e.kind === 'finished') done = e.done;
      const line: ProgressLine =
        e.kind === 'started'
          ? { kind: 'started', id: e.id, ...(e.title !== undefined ? { title: e.title } : {}), done, total: e.total }
          : { kind: 'finished', id: e.id, result: e.result, done: e.done, total: e.total };
      out.write(`${JSON.stringify(line)}\n`);
    }).then(
      (result) => out.end(`${JSON.stringify({ kind: 'done', configProblems: [], saved, restartRequired, ignored, run: result })}\n`),
      (e: unknown) => {
        ctx.state.log.error({ err: e }, 'check run failed');
        out.end();
      },
    );
  };

  /** The drive a candidate is checked against: its own URL and account, the running one, or none (null). */
  const driveFor = (candidate: Config): DriveAccess | null => {
    const c = candidate.storage;
    const r = config.storage;
    if (c.url === r.url && c.username === r.username && c.password === r.password) return deps.driveAccess;
    if (c.url !== null) return { davUrl: c.url, username: c.username, password: c.password };
    return deps.embeddedDrive ? deps.driveAccess : null; // back to the embedded drive, which is not running
  };

  const checksFor = (candidate: Config, drive: DriveAccess | null, pageUrl: string, only: readonly string[] | undefined): CheckDefinition[] => {
    const defs = configuredChecks(candidate, drive ?? deps.driveAccess, { adminPageUrl: pageUrl, state: deps.state, ...(only ? { only } : {}) });
    if (drive !== null) return defs;
    return defs.map((d) =>
      DRIVE_CHECK_ID_SET.has(d.id)
        ? {
            ...d,
            run: async () => ({
              id: d.id,
              status: 'skipped' as const,
              summary: 'Not run: these settings use the embedded drive, which starts only when the bridge restarts with them.',
              ms: 0,
            }),
          }
        : d,
    );
  };

  const adminPageUrl = (ctx: Context): string => `${originOf(ctx.get('Origin')) ?? originOf(config.publicUrl) ?? `${ctx.protocol}://${ctx.host}`}/admin/`;

  /** Auth of an API request: session (except session/login), same origin and CSRF token on POST. */
  const gate = async (ctx: Context): Promise<AdminSession | null> => {
    const route = `${ctx.method} ${ctx.path}`;
    ctx.state.op = OPS[route] ?? 'AdminApi';
    const isPost = ctx.method !== 'GET' && ctx.method !== 'HEAD';
    if (PUBLIC_ROUTES.has(route)) {
      if (isPost && !isSameOriginRequest(ctx, config.publicUrl)) throw new CsrfRejectedError('cross_origin');
      return null;
    }
    const session = await sessions.get(ctx.cookies.get(ADMIN_COOKIE));
    if (session === null) throw new NotSignedInError();
    if (isPost) {
      if (!isSameOriginRequest(ctx, config.publicUrl)) throw new CsrfRejectedError('cross_origin');
      const token = ctx.get('X-CSRF-Token');
      if (token === '') throw new CsrfRejectedError('csrf_token_missing');
      if (!isCsrfTokenValid(token, session.csrfToken)) throw new CsrfRejectedError('csrf_token_wrong');
    }
    return session;
  };

  const notFound = async (): Promise<void> => {
    throw new AdminNotFoundError();
  };

  return async (ctx: Context, next: Next): Promise<void> => {
    if (!isAdminPath(ctx.path)) {
      await next();
      return;
    }
    if (isAdminApiPath(ctx.path)) {
      await gate(ctx);
      await apiRoutes(ctx as Parameters<typeof apiRoutes>[0], notFound);
    } else {
      await pageRoutes(ctx as Parameters<typeof pageRoutes>[0], notFound);
    }
  };
}

/**
 * Validates the body of POST /admin/api/checks.
 * @throws AdminBadRequestError 400 for a body of the wrong shape
 */
function parseChecksRequest(body: unknown): ChecksRequest {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AdminBadRequestError(400, 'Send a JSON object: {settings?, save?, only?}');
  const { settings, save, only } = body as Record<string, unknown>;
  if (save !== undefined && typeof save !== 'boolean') throw new AdminBadRequestError(400, 'save must be true or false');
  if (only !== undefined) {
    if (!Array.isArray(only) || !only.every((x): x is string => typeof x === 'string')) throw new AdminBadRequestError(400, 'only must be a list of check ids');
    const unknown = only.filter((id) => !ALL_CHECK_IDS.includes(id));
    if (unknown.length > 0) throw new AdminBadRequestError(400, `Unknown check id(s): ${unknown.join(', ').slice(0, 200)}; known: ${ALL_CHECK_IDS.join(', ')}`);
  }
  return { settings, ...(save !== undefined ? { save } : {}), ...(only !== undefined ? { only: only as string[] } : {}) };
}

/** Starts an NDJSON answer and returns the stream to write lines to. */
function startLines(ctx: Context): PassThrough {
  const out = new PassThrough();
  ctx.status = 200;
  ctx.type = 'application/x-ndjson; charset=utf-8';
  ctx.set('X-Accel-Buffering', 'no'); // nginx: pass each line on at once
  ctx.body = out;
  return out;
}

/** An NDJSON answer of a few lines, all known now. */
function sendLines(ctx: Context, lines: readonly unknown[]): void {
  const out = startLines(ctx);
  out.end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
}
