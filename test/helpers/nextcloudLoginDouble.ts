/**
 * Test double of Nextcloud's Login Flow v2, in front of the Nextcloud WebDAV double ({@link startNextcloudDouble}).
 *
 * Answers like the captures `../shared/fixtures/nextcloud/f-loginflow-*` and the README's section "f- Login Flow v2":
 * `POST /index.php/login/v2` → 200 `{"poll":{"token","endpoint"},"login"}` (absolute URLs, `\/`-escaped as PHP does);
 * `POST /index.php/login/v2/poll` with `token=…` (form-encoded) → 404 `[]` while the person has not granted access,
 * for unknown tokens and for flows older than 20 minutes alike; 200 `{"server","loginName","appPassword"}` once
 * after the grant, then 404 `[]` again. `DELETE /ocs/v2.php/core/apppassword` with Basic auth and
 * `OCS-APIRequest: true` revokes the app password used (f-loginflow-14). Every other request goes to the WebDAV double;
 * a Basic-auth header with a live app password is swapped for the account's real password on the way, so a revoked
 * one gets the WebDAV double's own 401 (f-loginflow-15).
 *
 * The browser part (login page, consent) is played by {@link NextcloudLoginDouble.grant}.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startNextcloudDouble, type NextcloudDouble } from './nextcloudDouble.js';

/** Options for {@link startNextcloudLoginDouble}. */
export interface NextcloudLoginDoubleOptions {
  /** Login name → real password (default alice and bob). */
  users?: Record<string, string>;
  /** Login names that are not user ids (e.g. an e-mail address) → the user id they log in to. */
  aliases?: Record<string, string>;
}

/** A canned answer for the next poll (garbage tests). */
export interface CannedAnswer {
  status: number;
  body: string;
  contentType?: string;
}

/** A running Login Flow v2 double. */
export interface NextcloudLoginDouble {
  /** `http://127.0.0.1:<port>`: the Nextcloud base URL (no `index.php`). */
  origin: string;
  /** WebDAV root of a user's files on this origin. */
  davUrl(user: string): string;
  /** The WebDAV double behind (seed files with putFileDirect). */
  backend: NextcloudDouble;
  /** Real passwords by login name. */
  users: Record<string, string>;
  /** Requests to the login endpoints, in order (path, method, form body). */
  loginRequests: Array<{ method: string; path: string; body: string; userAgent: string | undefined }>;
  /**
   * Plays the browser: the person opens `loginUrl`, logs in as `loginName` and grants access. From now the poll for
   * that flow answers 200 once.
   * @returns the app password Nextcloud created
   */
  grant(loginUrl: string, loginName: string): string;
  /** Revokes an app password as the person would in Nextcloud's security settings. */
  revoke(appPassword: string): void;
  /** App passwords currently accepted. */
  liveAppPasswords(): string[];
  /** Moves the double's clock on (a flow lives 20 minutes). */
  advance(ms: number): void;
  /** The next request to the login endpoints (init or poll) gets this answer instead. */
  answerNext(answer: CannedAnswer): void;
  close(): Promise<void>;
}

interface Flow {
  pollToken: string;
  loginToken: string;
  createdAt: number;
  granted: { loginName: string; appPassword: string } | null;
}

const LIFETIME_MS = 1200 * 1000;
const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function nextcloudToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += TOKEN_CHARS[b % TOKEN_CHARS.length];
  return out;
}

/** JSON as PHP's json_encode writes it (slashes escaped). */
function phpJson(v: unknown): string {
  return JSON.stringify(v).replace(/\//g, '\\/');
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, status === 200 ? 'OK' : 'Not Found', {
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function basicAuth(req: IncomingMessage): { user: string; password: string } | null {
  const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? null : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/**
 * Starts the double (and the WebDAV double behind it) on 127.0.0.1, ephemeral ports.
 * @param opts accounts
 */
export async function startNextcloudLoginDouble(opts: NextcloudLoginDoubleOptions = {}): Promise<NextcloudLoginDouble> {
  const users = opts.users ?? { alice: 'alice-pass-123', bob: 'bob-pass-456' };
  const aliases = opts.aliases ?? {};
  const userIdOf = (login: string): string => aliases[login] ?? login;
  const backend = await startNextcloudDouble({ users });
  const backendUrl = new URL(backend.origin);
  const flows: Flow[] = [];
  /** app password → login name */
  const appPasswords = new Map<string, string>();
  const canned: CannedAnswer[] = [];
  const loginRequests: NextcloudLoginDouble['loginRequests'] = [];
  let clockOffset = 0;
  const now = (): number => Date.now() + clockOffset;
  let origin = '';

  const live = (f: Flow): boolean => now() - f.createdAt < LIFETIME_MS;

  const proxy = (req: IncomingMessage, res: ServerResponse): void => {
    const headers = { ...req.headers, host: backendUrl.host };
    const auth = basicAuth(req);
    if (auth !== null && appPasswords.get(auth.password) === auth.user) {
      const id = userIdOf(auth.user);
      headers.authorization = `Basic ${Buffer.from(`${id}:${users[id] ?? ''}`).toString('base64')}`;
    }
    const upstream = http.request(
      { host: backendUrl.hostname, port: backendUrl.port, method: req.method, path: req.url, headers },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.statusMessage, ures.headers);
        ures.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const isInit = req.method === 'POST' && path === '/index.php/login/v2';
      const isPoll = req.method === 'POST' && path === '/index.php/login/v2/poll';
      if (isInit || isPoll) {
        const body = await readBody(req);
        loginRequests.push({ method: req.method ?? '', path, body, userAgent: req.headers['user-agent'] });
        const answer = canned.shift();
        if (answer) {
          res.writeHead(answer.status, { 'Content-Type': answer.contentType ?? 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(answer.body)) });
          res.end(answer.body);
          return;
        }
        if (isInit) {
          const flow: Flow = { pollToken: nextcloudToken(128), loginToken: nextcloudToken(128), createdAt: now(), granted: null };
          flows.push(flow);
          sendJson(res, 200, phpJson({ poll: { token: flow.pollToken, endpoint: `${origin}/index.php/login/v2/poll` }, login: `${origin}/index.php/login/v2/flow/${flow.loginToken}` }));
          return;
        }
        const token = new URLSearchParams(body).get('token');
        const i = flows.findIndex((f) => f.pollToken === token);
        const flow = flows[i];
        if (!flow || !live(flow) || flow.granted === null) {
          // Expired rows are deleted when looked up (LoginFlowV2Mapper); unknown and pending look alike.
          if (flow && !live(flow)) flows.splice(i, 1);
          sendJson(res, 404, '[]');
          return;
        }
        flows.splice(i, 1);
        sendJson(res, 200, phpJson({ server: origin, loginName: flow.granted.loginName, appPassword: flow.granted.appPassword }));
        return;
      }
      if (req.method === 'GET' && path === '/ocs/v2.php/cloud/user') {
        // a-ocs-user-as-alice: the account's id and display name (fields trimmed to the ones clients read).
        const auth = basicAuth(req);
        if (req.headers['ocs-apirequest'] !== 'true' || auth === null || appPasswords.get(auth.password) !== auth.user) {
          sendJson(res, 401, '{"ocs":{"meta":{"status":"failure","statuscode":997,"message":"Current user is not logged in"},"data":[]}}');
          return;
        }
        const id = userIdOf(auth.user);
        const shown = id.charAt(0).toUpperCase() + id.slice(1);
        sendJson(res, 200, phpJson({ ocs: { meta: { status: 'ok', statuscode: 200, message: 'OK' }, data: { enabled: true, id, displayname: shown, 'display-name': shown } } }));
        return;
      }
      if (req.method === 'DELETE' && path === '/ocs/v2.php/core/apppassword') {
        await readBody(req);
        const auth = basicAuth(req);
        if (req.headers['ocs-apirequest'] !== 'true') {
          sendJson(res, 412, '{"message":"CSRF check failed"}');
          return;
        }
        if (auth === null || appPasswords.get(auth.password) !== auth.user) {
          sendJson(res, 401, '{"ocs":{"meta":{"status":"failure","statuscode":997,"message":"Current user is not logged in"},"data":[]}}');
          return;
        }
        appPasswords.delete(auth.password);
        sendJson(res, 200, '{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":[]}}');
        return;
      }
      proxy(req, res);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    davUrl: (user) => `${origin}/remote.php/dav/files/${encodeURIComponent(user)}`,
    backend,
    users,
    loginRequests,
    grant(loginUrl, loginName) {
      const flow = flows.find((f) => loginUrl === `${origin}/index.php/login/v2/flow/${f.loginToken}`);
      if (!flow || !live(flow)) throw new Error('no such login flow (expired or used)');
      if (users[userIdOf(loginName)] === undefined) throw new Error(`no account ${loginName}`);
      const appPassword = nextcloudToken(72);
      appPasswords.set(appPassword, loginName);
      flow.granted = { loginName, appPassword };
      return appPassword;
    },
    revoke(appPassword) {
      appPasswords.delete(appPassword);
    },
    liveAppPasswords: () => [...appPasswords.keys()],
    advance(ms) {
      clockOffset += ms;
    },
    answerNext(answer) {
      canned.push(answer);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}
