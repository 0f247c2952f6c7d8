/**
 * Nextcloud 32 in each server-side-encryption state, for the drive and encryption checks.
 *
 * A front server on 127.0.0.1 that answers `status.php`, OCS (provisioning-API app config, the apps lists,
 * `/cloud/user`) and the encryption-specific WebDAV answers itself — from the captures in
 * `../shared/fixtures/nextcloud/` wherever one exists (read with `readHttpFixture`) — and forwards every other request
 * to a `startNextcloudDouble()` instance behind it (`inner`), which holds the files.
 *
 * States (fixtures README, "Scenarios"):
 * - `a`  encryption off (fresh install);
 * - `b0` the encryption app enabled, encryption not switched on;
 * - `b`  encryption on with per-user keys: a stateless Basic-auth GET of an *encrypted* file answers 500 with the file's
 *        headers and an XML error body cut to the file's length (`b-get-docx-as-alice-encrypted`); a client that keeps the
 *        session cookie set by the double gets the file from its third request in that session on
 *        (`b-cookiesession-1..3`);
 * - `c`  encryption on with the master key: everything works;
 * - `d`  per-user-key instance with the encryption app disabled: every GET of a file answers 503 (`d-get-*`), PUT of a
 *        new file 503, PUT over a file 500 (`d-put-*`); PROPFIND, HEAD, MOVE and status.php are fine;
 * - `d2` the same on the master-key instance (`d2-*`).
 *
 * OCS follows the captures: `OCS-APIRequest: true` required (else 412 `CSRF check failed`), v2 puts the status in the
 * HTTP status (non-admin 403), v1 answers 200 with `statuscode` 403/100 in the body, wrong password 401 / 997.
 *
 * Not in the captures, built from the sources and marked as such: `product: 'owncloud'` (status.php with string
 * booleans; no app-config endpoint → 404 / 998; GET in the broken state → 403 `Sabre\DAV\Exception\Forbidden`
 * "Encryption not ready: Module with id: OC_DEFAULT_MODULE does not exist." as in the seed write-up), `product:
 * 'generic'` (no status.php, no OCS), maintenance mode / pending upgrade (status.php flags; WebDAV 503
 * "System is in maintenance mode." / "Upgrade needed"), the DecryptionFailedException text of the per-user-key body
 * beyond the captured prefix.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startNextcloudDouble, type NextcloudDouble, type RecordedRequest } from './nextcloudDouble.js';
import { readHttpFixture, type HeaderList, type HttpFixture } from './readHttpFixture.js';

export type EncryptionState = 'a' | 'b0' | 'b' | 'c' | 'd' | 'd2';

export interface NextcloudOcsDoubleOptions {
  /** Default `a`. */
  state?: EncryptionState;
  /** What status.php and OCS present. Default `nextcloud`. */
  product?: 'nextcloud' | 'owncloud' | 'generic';
  /** Login name → password. Default `{ alice: 'alice-pass-123', admin: 'admin-pass-123' }` (as captured). */
  users?: Record<string, string>;
  /** Members of the admin group. Default `['admin']`. */
  admins?: string[];
  /** Plays a reverse proxy that strips the `OCS-APIRequest` header (so every OCS request gets 412). */
  stripOcsApiRequest?: boolean;
}

export interface NextcloudOcsDouble {
  /** `http://127.0.0.1:<port>` of the front server. */
  origin: string;
  /** `${origin}/remote.php/dav/files/${user}` */
  davUrl(user: string): string;
  /** `${origin}/remote.php/webdav` */
  legacyDavUrl(): string;
  /** The files behind the front. */
  inner: NextcloudDouble;
  /** Requests that reached the front, in order. */
  requests: RecordedRequest[];
  readonly state: EncryptionState;
  /** Switches the encryption state (files keep their encrypted/plain mark). */
  setState(state: EncryptionState): void;
  /** status.php flags (WebDAV answers 503 while maintenance or needsDbUpgrade is on). */
  setStatus(flags: { maintenance?: boolean; needsDbUpgrade?: boolean; installed?: boolean }): void;
  /**
   * Writes a file as the server would store it: `encrypted` defaults to whether encryption is on in the current
   * state (b, c, d, d2). A file written with `inner.putFileDirect` is plain unless marked here.
   */
  putFile(user: string, path: string, bytes: Buffer, opts?: { encrypted?: boolean }): void;
  isEncrypted(user: string, path: string): boolean;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// answers from the captures

const capture = (name: string): HttpFixture => readHttpFixture(name);

/** Sends a capture's response: status line, headers (Content-Length recomputed), body — optionally a new body. */
function sendCapture(res: ServerResponse, fx: HttpFixture, body?: Buffer | string, extraHeaders: HeaderList = []): void {
  const b = body === undefined ? fx.response.body : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const headers: HeaderList = fx.response.headers.filter(([k]) => k.toLowerCase() !== 'content-length');
  const hasLength = fx.response.headers.some(([k]) => k.toLowerCase() === 'content-length');
  const flat: string[] = [];
  for (const [k, v] of [...headers, ...extraHeaders]) flat.push(k, v);
  if (hasLength || b.length > 0) flat.push('Content-Length', String(b.length));
  res.writeHead(fx.response.status, fx.response.reason, flat);
  res.end(b);
}

function sendRaw(res: ServerResponse, status: number, reason: string, headers: HeaderList, body: string | Buffer): void {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const flat: string[] = [];
  for (const [k, v] of headers) flat.push(k, v);
  flat.push('Content-Length', String(b.length));
  res.writeHead(status, reason, flat);
  res.end(b);
}

const XML_UTF8 = 'application/xml; charset=utf-8';
const JSON_UTF8 = 'application/json; charset=utf-8';
const OCS_CACHE: HeaderList = [['Cache-Control', 'no-cache, no-store, must-revalidate']];

function sabreXml(exception: string, message: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n' +
    `  <s:exception>${exception}</s:exception>\n  <s:message>${message}</s:message>\n</d:error>\n`
  );
}

/** The body Nextcloud cuts to the file's length in state b (only its first 28 bytes are captured). */
const DECRYPTION_FAILED_XML = sabreXml(
  'OCA\\Encryption\\Exceptions\\DecryptionFailedException',
  'Cannot decrypt this file, probably this is a shared file. Please ask the file owner to reshare the file with you.',
);

/** ownCloud 10's GET in the broken state (seed 002, owncloud/core apps/dav/lib/Connector/Sabre/File.php). */
const OWNCLOUD_FORBIDDEN_XML = sabreXml('Sabre\\DAV\\Exception\\Forbidden', 'Encryption not ready: Module with id: OC_DEFAULT_MODULE does not exist.');
const OWNCLOUD_UNAVAILABLE_XML = sabreXml('Sabre\\DAV\\Exception\\ServiceUnavailable', 'Encryption not ready: Module with id: OC_DEFAULT_MODULE does not exist.');

/** App-config values per state (the captured ones, and the uncaptured ones as the README describes them). */
const APP_CONFIG: Record<EncryptionState, Record<string, string>> = {
  a: { 'core/encryption_enabled': '', 'core/default_encryption_module': '', 'encryption/useMasterKey': '', 'encryption/enabled': '' },
  b0: { 'core/encryption_enabled': '', 'core/default_encryption_module': 'OC_DEFAULT_MODULE', 'encryption/useMasterKey': '', 'encryption/enabled': 'yes' },
  b: { 'core/encryption_enabled': 'yes', 'core/default_encryption_module': 'OC_DEFAULT_MODULE', 'encryption/useMasterKey': '0', 'encryption/enabled': 'yes' },
  c: {
    'core/encryption_enabled': 'yes',
    'core/default_encryption_module': 'OC_DEFAULT_MODULE',
    'encryption/useMasterKey': '',
    'encryption/enabled': 'yes',
    'encryption/masterKeyId': 'master_e0c23d43',
  },
  d: { 'core/encryption_enabled': 'yes', 'core/default_encryption_module': 'OC_DEFAULT_MODULE', 'encryption/useMasterKey': '0', 'encryption/enabled': 'no' },
  d2: { 'core/encryption_enabled': 'yes', 'core/default_encryption_module': 'OC_DEFAULT_MODULE', 'encryption/useMasterKey': '', 'encryption/enabled': 'no' },
};

/** Capture file of an admin's app-config read, per state (where one was taken). */
function appConfigCapture(state: EncryptionState, key: string): string | null {
  const k = key.replace('/', '-');
  const candidates: Record<EncryptionState, string> = {
    a: `a-ocs-appconfig-${k}-as-admin`,
    b0: `b0-appenabled-encryption-off-ocs-appconfig-${k}-as-admin`,
    b: `b-ocs-appconfig-${k}-as-admin`,
    c: `c-ocs-appconfig-${k}-as-admin`,
    d: `d-ocs-appconfig-${k}-as-admin`,
    d2: `d2-masterkey-ocs-appconfig-${k}-as-admin`,
  };
  const name = candidates[state];
  try {
    capture(name);
    return name;
  } catch {
    return null;
  }
}

function enabledAppsCapture(state: EncryptionState): string {
  // b0 has the app enabled like b; d2 has it disabled like d.
  const map: Record<EncryptionState, string> = { a: 'a', b0: 'b', b: 'b', c: 'c', d: 'd', d2: 'd' };
  return `${map[state]}-ocs-v1-apps-enabled-as-admin`;
}

function encryptionOn(state: EncryptionState): boolean {
  return state === 'b' || state === 'c' || state === 'd' || state === 'd2';
}

function v1Meta(status: string, statuscode: number, message: string): Record<string, unknown> {
  return { status, statuscode, message, totalitems: '', itemsperpage: '' };
}

function ocsJson(v1: boolean, ok: boolean, data: unknown, code?: number, message?: string): string {
  const sc = code ?? (ok ? (v1 ? 100 : 200) : 998);
  const msg = message ?? (ok ? 'OK' : '');
  const meta = v1 ? v1Meta(ok ? 'ok' : 'failure', sc, msg) : { status: ok ? 'ok' : 'failure', statuscode: sc, message: msg };
  return JSON.stringify({ ocs: { meta, data } });
}

// ---------------------------------------------------------------------------------------------------------------

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function decodeSegs(rawPath: string): string[] {
  return rawPath
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

class Front {
  readonly requests: RecordedRequest[] = [];
  state: EncryptionState;
  product: 'nextcloud' | 'owncloud' | 'generic';
  flags = { maintenance: false, needsDbUpgrade: false, installed: true };
  private readonly encrypted = new Set<string>();
  /** Cookie session id → requests made in it so far (state b's session-cookie behaviour). */
  private readonly sessions = new Map<string, number>();
  private readonly server: http.Server;
  origin = '';

  constructor(
    readonly inner: NextcloudDouble,
    private readonly users: Record<string, string>,
    private readonly admins: string[],
    opts: NextcloudOcsDoubleOptions,
  ) {
    this.state = opts.state ?? 'a';
    this.product = opts.product ?? 'nextcloud';
    this.stripOcs = opts.stripOcsApiRequest ?? false;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendRaw(res, 500, 'Internal Server Error', [['Content-Type', 'text/plain']], String(e));
        else res.destroy();
      });
    });
  }
  private readonly stripOcs: boolean;

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  key(user: string, path: string): string {
    return `${user}:/${path.replace(/^\/+/, '')}`;
  }

  mark(user: string, path: string, encrypted: boolean): void {
    if (encrypted) this.encrypted.add(this.key(user, path));
    else this.encrypted.delete(this.key(user, path));
  }

  isEncrypted(user: string, path: string): boolean {
    return this.encrypted.has(this.key(user, path));
  }

  private authenticate(req: IncomingMessage): string | null {
    const m = /^Basic\s+(\S+)$/i.exec(headerOf(req, 'authorization') ?? '');
    if (!m?.[1]) return null;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return null;
    const user = decoded.slice(0, i);
    return Object.prototype.hasOwnProperty.call(this.users, user) && this.users[user] === decoded.slice(i + 1) ? user : null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    this.requests.push({ method, path: target, headers: { ...req.headers } });
    const rawPath = target.split('?')[0] ?? '/';
    if (rawPath === '/status.php' && (method === 'GET' || method === 'HEAD')) return this.statusPhp(res);
    if (rawPath.startsWith('/ocs/')) return this.ocs(req, res, rawPath, new URLSearchParams(target.split('?')[1] ?? ''));
    if (rawPath.startsWith('/remote.php/') && this.product !== 'generic') {
      if (this.flags.maintenance || this.flags.needsDbUpgrade) {
        return sendRaw(res, 503, 'Service Unavailable', [['Content-Type', XML_UTF8]], sabreXml('Sabre\\DAV\\Exception\\ServiceUnavailable', this.flags.maintenance ? 'System is in maintenance mode.' : 'Upgrade needed'));
      }
      const user = this.authenticate(req);
      if (user) {
        const handled = await this.encryptionAnswer(req, res, method, rawPath, user);
        if (handled) return;
      }
    }
    return this.forward(req, res, method, rawPath);
  }

  // ------------------------------------------------------------------ status.php

  private statusPhp(res: ServerResponse): void {
    if (this.product === 'generic') return sendRaw(res, 404, 'Not Found', [['Content-Type', 'text/html; charset=UTF-8']], '');
    if (this.product === 'owncloud') {
      const s = (b: boolean): string => (b ? 'true' : 'false');
      const body = JSON.stringify({
        installed: s(this.flags.installed),
        maintenance: s(this.flags.maintenance),
        needsDbUpgrade: s(this.flags.needsDbUpgrade),
        version: '10.15.0.2',
        versionstring: '10.15.0',
        edition: 'Community',
        productname: 'ownCloud',
        product: 'ownCloud',
      });
      return sendRaw(res, 200, 'OK', [['Content-Type', 'application/json']], body);
    }
    const fx = capture(this.state === 'd' || this.state === 'd2' ? 'd-status-php' : 'a-status-php');
    const j = JSON.parse(fx.response.body.toString('utf8')) as Record<string, unknown>;
    j.installed = this.flags.installed;
    j.maintenance = this.flags.maintenance;
    j.needsDbUpgrade = this.flags.needsDbUpgrade;
    sendCapture(res, fx, JSON.stringify(j));
  }

  // ------------------------------------------------------------------ OCS

  private ocs(req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams): void {
    if (this.product === 'generic') return sendRaw(res, 404, 'Not Found', [['Content-Type', 'text/html; charset=UTF-8']], '');
    const v1 = rawPath.startsWith('/ocs/v1.php/');
    if (!v1 && !rawPath.startsWith('/ocs/v2.php/')) return sendRaw(res, 404, 'Not Found', [['Content-Type', 'text/html; charset=UTF-8']], '');
    const route = rawPath.slice('/ocs/v1.php'.length);
    const apiRequest = !this.stripOcs && (headerOf(req, 'ocs-apirequest') ?? '').toLowerCase() === 'true';
    const user = this.authenticate(req);
    if (headerOf(req, 'authorization') !== undefined && !user) {
      const fx = capture('a-ocs-user-wrong-password-401');
      return sendCapture(res, fx, v1 ? ocsJson(true, false, [], 997, 'Unauthorised') : undefined);
    }
    if (!apiRequest) {
      const fx = capture('a-ocs-user-without-ocs-apirequest-header');
      const headers: HeaderList = fx.response.headers.flatMap(([k, v]): HeaderList => (k === 'X-User-Id' ? (user ? [[k, user]] : []) : [[k, v]]));
      return sendCapture(res, { ...fx, response: { ...fx.response, headers } });
    }
    if (!user) {
      const fx = capture('a-ocs-user-wrong-password-401');
      return sendCapture(res, fx, v1 ? ocsJson(true, false, [], 997, 'Unauthorised') : undefined);
    }
    if (this.flags.maintenance || this.flags.needsDbUpgrade) {
      return sendRaw(res, 503, 'Service Unavailable', [...OCS_CACHE, ['Content-Type', JSON_UTF8]], ocsJson(v1, false, [], 503, 'Service unavailable'));
    }
    const isAdmin = this.admins.includes(user);
    const userHeaders: HeaderList = [...OCS_CACHE, ['X-User-Id', user], ['Content-Type', JSON_UTF8]];
    const forbidden = (): void => {
      const fx = capture(v1 ? 'a-ocs-v1-appconfig-core-encryption_enabled-as-alice' : 'a-ocs-appconfig-core-encryption_enabled-as-alice');
      sendCapture(res, { ...fx, response: { ...fx.response, headers: fx.response.headers.map(([k, v]) => [k, k === 'X-User-Id' ? user : v]) } });
    };
    const notFound = (): void => {
      const msg = 'Invalid query, please check the syntax. API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n';
      sendRaw(res, v1 ? 200 : 404, v1 ? 'OK' : 'Not Found', userHeaders, ocsJson(v1, false, [], 998, msg));
    };

    // /cloud/user
    if (route === '/cloud/user') {
      const name = this.state === 'd' && user === 'alice' ? 'd-ocs-user-as-alice' : user === 'admin' ? 'a-ocs-user-as-admin' : 'a-ocs-user-as-alice';
      const fx = capture(name);
      let body = fx.response.body.toString('utf8');
      if (user !== 'alice' && user !== 'admin') body = body.replace(/"id":"alice"/, `"id":${JSON.stringify(user)}`).replace(/"Alice"/g, JSON.stringify(user));
      if (v1) {
        const j = JSON.parse(body) as { ocs: { meta: Record<string, unknown>; data: unknown } };
        body = ocsJson(true, true, j.ocs.data);
      }
      return sendCapture(res, { ...fx, response: { ...fx.response, headers: fx.response.headers.map(([k, v]) => [k, k === 'X-User-Id' ? user : v]) } }, body);
    }

    // /cloud/apps?filter=…, /cloud/apps/<id>
    if (route === '/cloud/apps' || route.startsWith('/cloud/apps/')) {
      if (!isAdmin) {
        if (v1) return sendCapture(res, capture('a-ocs-v1-apps-enabled-as-alice'));
        return sendRaw(res, 403, 'Forbidden', userHeaders, ocsJson(false, false, [], 403, 'Logged in account must be an admin'));
      }
      const enabled = this.enabledApps();
      if (route === '/cloud/apps') {
        const filter = query.get('filter');
        let apps: string[];
        let fxName: string | null = null;
        if (filter === 'enabled') {
          apps = enabled;
          if (this.product === 'nextcloud') fxName = enabledAppsCapture(this.state);
        } else if (filter === 'disabled') {
          apps = ['admin_audit', 'twofactor_nextcloud_notification', 'twofactor_totp', 'user_ldap', 'files_external', 'suspicious_login'];
          if (!enabled.includes('encryption')) apps.splice(2, 0, 'encryption');
          if (this.product === 'nextcloud' && (this.state === 'b' || this.state === 'd')) fxName = this.state === 'b' ? 'b-ocs-apps-disabled-as-admin' : 'd-ocs-v1-apps-disabled-as-admin';
        } else {
          apps = [...enabled, 'admin_audit', 'twofactor_totp', 'user_ldap', 'files_external', 'suspicious_login'];
        }
        if (fxName && v1) return sendCapture(res, capture(fxName));
        return sendRaw(res, 200, 'OK', userHeaders, ocsJson(v1, true, { apps }));
      }
      if (route === '/cloud/apps/encryption' && this.product === 'nextcloud' && v1) return sendCapture(res, capture('b-ocs-app-info-encryption-as-admin'));
      return notFound();
    }

    // provisioning API app config (Nextcloud only; ownCloud 10 has no read endpoint)
    const m = /^\/apps\/provisioning_api\/api\/v1\/config\/apps(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(route);
    if (m) {
      if (this.product !== 'nextcloud') return notFound();
      if (!isAdmin) return forbidden();
      const values = APP_CONFIG[this.state];
      const app = m[1] ? decodeURIComponent(m[1]) : null;
      const key = m[2] ? decodeURIComponent(m[2]) : null;
      const json = query.get('format') === 'json' || /json/i.test(headerOf(req, 'accept') ?? '');
      if (app === null) {
        const apps = [...new Set(Object.keys(values).filter((k) => values[k] !== '').map((k) => k.split('/')[0] ?? ''))].sort();
        return sendRaw(res, 200, 'OK', userHeaders, ocsJson(v1, true, { data: apps }));
      }
      if (key === null) {
        if (app === 'encryption' && this.state === 'a' && !v1) return sendCapture(res, capture('a-ocs-appconfig-encryption-list-keys-as-admin'));
        const keys = Object.keys(values)
          .filter((k) => k.startsWith(`${app}/`) && values[k] !== '')
          .map((k) => k.slice(app.length + 1));
        return sendRaw(res, 200, 'OK', userHeaders, ocsJson(v1, true, { data: keys }));
      }
      const value = values[`${app}/${key}`] ?? '';
      if (!json) {
        if (`${app}/${key}` === 'core/encryption_enabled' && this.state === 'a' && !v1) return sendCapture(res, capture('a-ocs-appconfig-core-encryption_enabled-xml-default-as-admin'));
        const code = v1 ? 100 : 200;
        const xml = `<?xml version="1.0"?>\n<ocs>\n <meta>\n  <status>ok</status>\n  <statuscode>${code}</statuscode>\n  <message>OK</message>\n${v1 ? '  <totalitems></totalitems>\n  <itemsperpage></itemsperpage>\n' : ''} </meta>\n <data>\n  <data>${value}</data>\n </data>\n</ocs>\n`;
        return sendRaw(res, 200, 'OK', [...OCS_CACHE, ['X-User-Id', user], ['Content-Type', 'application/xml; charset=utf-8']], xml);
      }
      if (v1) {
        if (`${app}/${key}` === 'core/encryption_enabled' && this.state === 'a') return sendCapture(res, capture('a-ocs-v1-appconfig-core-encryption_enabled-as-admin'));
        return sendRaw(res, 200, 'OK', userHeaders, ocsJson(true, true, { data: value }));
      }
      const fxName = appConfigCapture(this.state, `${app}/${key}`);
      if (fxName) return sendCapture(res, capture(fxName));
      return sendRaw(res, 200, 'OK', userHeaders, ocsJson(false, true, { data: value }));
    }
    return notFound();
  }

  private enabledApps(): string[] {
    if (this.product === 'owncloud') {
      const apps = ['files', 'dav', 'federatedfilesharing', 'files_sharing', 'files_trashbin', 'files_versions', 'provisioning_api', 'comments', 'systemtags'];
      if (this.state === 'b0' || this.state === 'b' || this.state === 'c') apps.splice(2, 0, 'encryption');
      return apps;
    }
    const fx = capture(enabledAppsCapture(this.state));
    const j = JSON.parse(fx.response.body.toString('utf8')) as { ocs: { data: { apps: string[] } } };
    return j.ocs.data.apps;
  }

  // ------------------------------------------------------------------ WebDAV answers that depend on encryption

  /** (user, path below the user's root) of a files or legacy URL; null for anything else. */
  private fileTarget(rawPath: string, user: string): { owner: string; path: string } | null {
    const segs = decodeSegs(rawPath);
    if (segs[1] === 'webdav') return { owner: user, path: `/${segs.slice(2).join('/')}` };
    if (segs[1] === 'dav' && segs[2] === 'files' && segs[3] !== undefined) return { owner: segs[3], path: `/${segs.slice(4).join('/')}` };
    return null;
  }

  /** Session cookie handling of state b: returns [Set-Cookie headers to add, requests made in the session before]. */
  private session(req: IncomingMessage): { setCookie: HeaderList; before: number } {
    const m = /(?:^|;\s*)ocr9vf0pkpqt=([A-Za-z0-9]+)/.exec(headerOf(req, 'cookie') ?? '');
    const sid = m?.[1];
    if (sid && this.sessions.has(sid)) {
      const before = this.sessions.get(sid) ?? 0;
      this.sessions.set(sid, before + 1);
      return { setCookie: [], before };
    }
    const fresh = randomBytes(12).toString('hex');
    this.sessions.set(fresh, 1);
    return { setCookie: [['Set-Cookie', `ocr9vf0pkpqt=${fresh}; path=/; HttpOnly; SameSite=Lax`]], before: 0 };
  }

  private async encryptionAnswer(req: IncomingMessage, res: ServerResponse, method: string, rawPath: string, user: string): Promise<boolean> {
    const t = this.fileTarget(rawPath, user);
    if (!t || t.owner !== user) return false;
    const exists = this.inner.readFileDirect(t.owner, t.path) !== null;
    const encrypted = this.isEncrypted(t.owner, t.path);
    const broken = this.state === 'd' || this.state === 'd2';

    if (broken && method === 'GET' && exists) {
      if (this.product === 'owncloud') {
        sendRaw(res, 403, 'Forbidden', [['Content-Type', XML_UTF8]], OWNCLOUD_FORBIDDEN_XML);
        return true;
      }
      sendCapture(res, capture(encrypted ? 'd-get-encrypted-file-app-disabled' : 'd-get-unencrypted-file-app-disabled'));
      return true;
    }
    if (broken && method === 'PUT') {
      req.resume();
      if (this.product === 'owncloud') {
        sendRaw(res, 503, 'Service Unavailable', [['Content-Type', XML_UTF8]], OWNCLOUD_UNAVAILABLE_XML);
        return true;
      }
      sendCapture(res, capture(exists ? 'd-put-overwrite-encrypted-app-disabled' : 'd-put-new-file-app-disabled'));
      return true;
    }
    if (this.state === 'b') {
      const { setCookie, before } = this.session(req);
      if (method === 'GET' && exists && encrypted && before < 2) {
        await this.perUserKeyFailure(req, res, rawPath, setCookie);
        return true;
      }
      await this.forward(req, res, method, rawPath, setCookie);
      if (method === 'PUT' && res.statusCode < 300) this.mark(t.owner, t.path, true);
      return true;
    }
    if (method === 'PUT') {
      await this.forward(req, res, method, rawPath);
      if (res.statusCode < 300) this.mark(t.owner, t.path, encryptionOn(this.state));
      return true;
    }
    return false;
  }

  /** 500 with the file's own headers and the error XML cut to the file's length (b-get-docx-as-alice-encrypted). */
  private async perUserKeyFailure(req: IncomingMessage, res: ServerResponse, rawPath: string, setCookie: HeaderList): Promise<void> {
    const head = await this.innerRequest('HEAD', rawPath, req.headers);
    const template = capture('b-get-docx-as-alice-encrypted').response.headers;
    const length = Number(head.headers['content-length'] ?? '0');
    const flat: string[] = [];
    for (const [k] of template) {
      const lower = k.toLowerCase();
      const v = lower === 'content-type' ? XML_UTF8 : head.headers[lower];
      const value = Array.isArray(v) ? v[0] : v;
      if (value !== undefined) flat.push(k, value);
    }
    for (const [k, v] of setCookie) flat.push(k, v);
    res.writeHead(500, 'Internal Server Error', flat);
    const body = Buffer.from(DECRYPTION_FAILED_XML, 'utf8');
    if (body.length >= length) {
      res.end(body.subarray(0, length));
      return;
    }
    // PHP announced the file's length but the error body is shorter: the connection ends early.
    res.write(body, () => res.destroy());
  }

  private innerRequest(method: string, path: string, headers: http.IncomingHttpHeaders): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    const inner = new URL(this.inner.origin);
    return new Promise((resolve, reject) => {
      const r = http.request({ host: inner.hostname, port: inner.port, method, path, headers: { ...headers, host: inner.host }, agent: false }, (up) => {
        up.resume();
        up.on('end', () => resolve({ status: up.statusCode ?? 0, headers: up.headers }));
      });
      r.on('error', reject);
      r.end();
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, method: string, _rawPath: string, extra: HeaderList = []): Promise<void> {
    const inner = new URL(this.inner.origin);
    return new Promise((resolve) => {
      const up = http.request(
        { host: inner.hostname, port: inner.port, method, path: req.url, headers: { ...req.headers, host: inner.host }, agent: false },
        (ur) => {
          const flat: string[] = [];
          for (let i = 0; i + 1 < ur.rawHeaders.length; i += 2) flat.push(ur.rawHeaders[i] ?? '', ur.rawHeaders[i + 1] ?? '');
          for (const [k, v] of extra) flat.push(k, v);
          res.writeHead(ur.statusCode ?? 502, ur.statusMessage ?? '', flat);
          ur.pipe(res);
          ur.on('end', () => resolve());
          ur.on('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      up.on('error', () => {
        if (!res.headersSent) sendRaw(res, 502, 'Bad Gateway', [['Content-Type', 'text/plain']], 'inner double not reachable');
        else res.destroy();
        resolve();
      });
      req.pipe(up);
    });
  }
}

/**
 * Starts the front and its inner Nextcloud double.
 * @param opts - state, product, users, admins
 */
export async function startNextcloudOcsDouble(opts: NextcloudOcsDoubleOptions = {}): Promise<NextcloudOcsDouble> {
  const users = opts.users ?? { alice: 'alice-pass-123', admin: 'admin-pass-123' };
  const inner = await startNextcloudDouble({ users });
  const front = new Front(inner, users, opts.admins ?? ['admin'], opts);
  await front.listen();
  return {
    origin: front.origin,
    davUrl: (user: string) => `${front.origin}/remote.php/dav/files/${encodeURIComponent(user)}`,
    legacyDavUrl: () => `${front.origin}/remote.php/webdav`,
    inner,
    requests: front.requests,
    get state() {
      return front.state;
    },
    setState: (s: EncryptionState) => {
      front.state = s;
    },
    setStatus: (flags) => {
      Object.assign(front.flags, flags);
    },
    putFile: (user, path, bytes, o) => {
      inner.putFileDirect(user, path, bytes);
      front.mark(user, path, o?.encrypted ?? encryptionOn(front.state));
    },
    isEncrypted: (user, path) => front.isEncrypted(user, path),
    close: async () => {
      await front.close();
      await inner.close();
    },
  };
}
