/**
 * ONLYOFFICE DocumentServer (DocService 9.3.1) test double.
 *
 * Answers like the real captures in `../shared/fixtures/onlyoffice/` (see that folder's README): status, content
 * type and body of `/healthcheck`, `/index.html`, `/hosting/discovery`, `/hosting/capabilities`, the CommandService
 * and the ConvertService, in the normal and the misconfigured states (`70`–`95`). Built on plain `node:http`,
 * listening on 127.0.0.1 with an ephemeral port.
 *
 * It is also the WOPI *client* side: {@link DocServiceDouble.signWopiRequest} returns the headers DS sends on every
 * WOPI call, with `X-WOPI-Proof` / `X-WOPI-ProofOld` signed like DS's `wopiUtils.generateProofBuffer` /
 * `generateProofSign` with the double's own RSA-2048 keys, which its discovery publishes in `<proof-key>`.
 *
 * Editor entry `POST /hosting/wopi/<type>/<mode>` (the host page's form, `50`/`51`): answers 501 unless the option
 * `editor` is on; then the double calls the WOPISrc like DS does (§1.3): CheckFileInfo, PutFile of a template without
 * X-WOPI-Lock when the file is empty (editnew), Lock (edit mode, writable), GetFile, and records each step in
 * {@link DocServiceDouble.editorSessions}.
 *
 * Not reproduced: the editor page itself, the socket.io editor session, real
 * conversions (a ConvertService call with a valid token downloads the source and then always fails with `-3`, as
 * DS without x2t does) and the private-IP filter of the download (`87`).
 *
 * The onlyoffice captures use LF line ends and, in `wopi-from-docservice/`, a `### answer…` line before the
 * response, which `readHttpFixture.ts` (CRLF, Nextcloud) does not read: use {@link parseDocServiceCapture} /
 * {@link readDocServiceCapture} for them.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import type { HeaderList, HttpFixture } from './readHttpFixture.js';
import { fixturesDir } from './sharedDir.js';

// ---------------------------------------------------------------------------------------------------------------
// Capture reader (LF line ends, optional `### …` line before the response)

/** Folder of the DocumentServer captures. */
export const ONLYOFFICE_FIXTURE_DIR = fixturesDir('onlyoffice');

/** Origin DocService had in the captures (`Host: 127.0.0.1:8000`); discovery URLs are built on it. */
export const CAPTURED_DS_ORIGIN = 'http://127.0.0.1:8000';

/** A parsed onlyoffice capture: same shape as `readHttpFixture`'s, plus the harness note line if there was one. */
export interface DocServiceCapture extends HttpFixture {
  /** The last `### …` line (without `### `) before the response, e.g. `answer of the harness WOPI host …`. */
  note?: string;
  /** Every harness comment line (starting with `#`) between the request and the response, in order. */
  comments: string[];
  /**
   * True when the request body was not recorded verbatim but replaced by a `[request body: N bytes …]` placeholder
   * (PutFile in `wopi-from-docservice/`); `request.body` then holds the placeholder text.
   */
  requestBodyIsPlaceholder: boolean;
}

const LF = 0x0a;

function parseHeadLines(text: string): { startLine: string; headers: HeaderList } {
  const lines = text.split(/\r?\n/);
  const startLine = lines.shift() ?? '';
  const headers: HeaderList = [];
  for (const line of lines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`Malformed header line: ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers };
}

function skipNewlines(raw: Buffer, pos: number): number {
  while (pos < raw.length && (raw[pos] === LF || (raw[pos] === 0x0d && raw[pos + 1] === LF))) pos += raw[pos] === LF ? 1 : 2;
  return pos;
}

function startsWithAt(raw: Buffer, pos: number, text: string): boolean {
  return raw.subarray(pos, pos + text.length).toString('latin1') === text;
}

/** Index of the next line (at or after `from`) that starts with `HTTP/` or `#`, or -1. */
function nextResponseLine(raw: Buffer, from: number): number {
  for (let pos = from; pos < raw.length; ) {
    if (startsWithAt(raw, pos, 'HTTP/') || startsWithAt(raw, pos, '#')) return pos;
    const nl = raw.indexOf(LF, pos);
    if (nl < 0) return -1;
    pos = nl + 1;
  }
  return -1;
}

/**
 * Parses one onlyoffice capture: request line, headers, blank line, optional request body (exactly
 * `Content-Length` bytes, unless replaced by a placeholder), blank line(s), optional `#` comment lines, the response
 * status line, headers, blank line and the verbatim response body up to the end of the file.
 *
 * @param raw - the file content
 * @param file - name used in errors and in the result
 */
export function parseDocServiceCapture(raw: Buffer, file = '<buffer>'): DocServiceCapture {
  const headEnd = raw.indexOf('\n\n');
  if (headEnd < 0) throw new Error(`${file}: no end of request headers`);
  const reqHead = parseHeadLines(raw.subarray(0, headEnd).toString('utf8'));
  const [method = '', target = '', httpVersion = ''] = reqHead.startLine.split(' ');
  let pos = headEnd + 2;

  let reqBody = Buffer.alloc(0);
  let placeholder = false;
  const lenHeader = reqHead.headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1];
  const len = lenHeader === undefined ? 0 : Number(lenHeader);
  if (len > 0) {
    const after = skipNewlines(raw, pos + len);
    const fits =
      pos + len <= raw.length && (startsWithAt(raw, after, 'HTTP/') || startsWithAt(raw, after, '#'));
    if (fits) {
      reqBody = Buffer.from(raw.subarray(pos, pos + len));
      pos += len;
    } else {
      const at = nextResponseLine(raw, pos);
      if (at < 0) throw new Error(`${file}: no response after the request body`);
      reqBody = Buffer.from(raw.subarray(pos, at).toString('utf8').replace(/\s+$/, ''), 'utf8');
      placeholder = true;
      pos = at;
    }
  }
  pos = skipNewlines(raw, pos);

  // Harness comment lines (`### answer of …`, `### received …`, `# … JWT …`) before the response.
  let note: string | undefined;
  const comments: string[] = [];
  while (startsWithAt(raw, pos, '#')) {
    const nl = raw.indexOf(LF, pos);
    const line = raw.subarray(pos, nl < 0 ? raw.length : nl).toString('utf8').trim();
    comments.push(line);
    if (line.startsWith('### ')) note = line.slice(4).trim();
    pos = skipNewlines(raw, nl < 0 ? raw.length : nl + 1);
  }
  if (!startsWithAt(raw, pos, 'HTTP/')) throw new Error(`${file}: expected the response status line at byte ${pos}`);

  const resHeadEnd = raw.indexOf('\n\n', pos);
  const resHeadText = raw.subarray(pos, resHeadEnd < 0 ? raw.length : resHeadEnd).toString('utf8');
  const resHead = parseHeadLines(resHeadText.replace(/\n$/, ''));
  const m = /^(HTTP\/\d(?:\.\d)?) (\d{3})(?: (.*))?$/.exec(resHead.startLine);
  if (!m) throw new Error(`${file}: malformed status line ${JSON.stringify(resHead.startLine)}`);
  const result: DocServiceCapture = {
    file,
    request: { method, target, httpVersion, headers: reqHead.headers, body: reqBody },
    response: {
      httpVersion: m[1] ?? '',
      status: Number(m[2]),
      reason: m[3] ?? '',
      headers: resHead.headers,
      body: resHeadEnd < 0 ? Buffer.alloc(0) : Buffer.from(raw.subarray(resHeadEnd + 2)),
    },
    requestBodyIsPlaceholder: placeholder,
    comments,
  };
  if (note !== undefined) result.note = note;
  return result;
}

/**
 * Reads and parses one onlyoffice capture.
 *
 * @param name - file name relative to `dir`, with or without `.http` (e.g. `10-command-version-body-token-ok`,
 *   `wopi-from-docservice/s1-edit-file1-02-LOCK.http`)
 * @param dir - folder; defaults to {@link ONLYOFFICE_FIXTURE_DIR}
 */
export function readDocServiceCapture(name: string, dir: string = ONLYOFFICE_FIXTURE_DIR): DocServiceCapture {
  const file = name.endsWith('.http') ? name : `${name}.http`;
  return parseDocServiceCapture(readFileSync(path.join(dir, file)), file);
}

// ---------------------------------------------------------------------------------------------------------------
// WOPI proof (client side: DS's wopiUtils.generateProofBuffer / generateProofSign)

/** .NET ticks of 1970-01-01T00:00:00Z. */
const EPOCH_TICKS = 621355968000000000n;

/** `X-WOPI-TimeStamp` for a time in ms since the Unix epoch: .NET ticks (100 ns since 0001-01-01 UTC). */
export function wopiTicks(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 10000n + EPOCH_TICKS;
}

/**
 * The bytes DS signs (reference §1.7): `[u32be len(token)][token utf8][u32be len(URL)][URL.toUpperCase() utf8]
 * [u32be 8][i64be ticks]`.
 *
 * @param url - the full request URL, including `?access_token=…`
 * @param token - the raw access token (not URL-encoded)
 * @param ticks - the `X-WOPI-TimeStamp` value
 */
export function wopiProofData(url: string, token: string, ticks: bigint): Buffer {
  const tokenBytes = Buffer.from(token, 'utf8');
  const urlBytes = Buffer.from(url.toUpperCase(), 'utf8');
  const buf = Buffer.alloc(4 + tokenBytes.length + 4 + urlBytes.length + 4 + 8);
  let off = buf.writeUInt32BE(tokenBytes.length, 0);
  off += tokenBytes.copy(buf, off);
  off = buf.writeUInt32BE(urlBytes.length, off);
  off += urlBytes.copy(buf, off);
  off = buf.writeUInt32BE(8, off);
  buf.writeBigInt64BE(ticks, off);
  return buf;
}

/**
 * MS CAPI `PUBLICKEYBLOB` of an RSA public key, as `openssl rsa -RSAPublicKey_out -outform "MS PUBLICKEYBLOB"`
 * writes it: `06 02 00 00 | 00 a4 00 00 | 'RSA1' | bitlen u32le | pubexp u32le | modulus little-endian`.
 *
 * @param modulus - big-endian modulus bytes
 * @param exponent - public exponent (65537)
 */
export function cspPublicKeyBlob(modulus: Buffer, exponent = 65537): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt8(0x06, 0); // bType PUBLICKEYBLOB
  head.writeUInt8(0x02, 1); // bVersion
  head.writeUInt16LE(0, 2); // reserved
  head.writeUInt32LE(0x0000a400, 4); // aiKeyAlg CALG_RSA_KEYX
  head.write('RSA1', 8, 'latin1'); // magic
  head.writeUInt32LE(modulus.length * 8, 12); // bitlen
  head.writeUInt32LE(exponent, 16); // pubexp
  return Buffer.concat([head, Buffer.from(modulus).reverse()]);
}

/** One proof key as the double holds and publishes it. */
export interface ProofKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Big-endian modulus (256 bytes). */
  modulus: Buffer;
  /** Discovery `value` / `oldvalue`: base64 of the 276-byte CSP PUBLICKEYBLOB. */
  value: string;
  /** Discovery `modulus` / `oldmodulus`: base64 of the big-endian modulus. */
  modulusB64: string;
  /** Discovery `exponent` / `oldexponent`: `AQAB`. */
  exponentB64: string;
}

function newProofKey(): ProofKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' });
  const modulus = Buffer.from(jwk.n ?? '', 'base64url');
  const exponent = Buffer.from(jwk.e ?? '', 'base64url');
  return {
    privateKey,
    publicKey,
    modulus,
    value: cspPublicKeyBlob(modulus, exponent.readUIntBE(0, exponent.length)).toString('base64'),
    modulusB64: modulus.toString('base64'),
    exponentB64: exponent.toString('base64'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/** One request received by the double (logged before any check). */
export interface RecordedRequest {
  method: string;
  /** The raw request target as sent (path plus query). */
  target: string;
  /** Request headers (Node's lower-cased view). */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Options for {@link startDocServiceDouble}. Defaults are the captured configuration (`local.json` in the README). */
export interface DocServiceDoubleOptions {
  /** `wopi.enable`. Default true. When false every `/hosting/*` route answers 404 `Not Found` (`70`–`72`). */
  wopiEnabled?: boolean;
  /** Current and old proof keys configured. Default true. When false: no `<proof-key>`, no proof headers. */
  proofKeys?: boolean;
  /** Inbox JWT secret. Default `test-secret-123`; `null` = inbox JWT off (`77`–`79`: every token accepted). */
  jwtSecret?: string | null;
  /** `token.inbox.header`. Default `Authorization` (`80`–`82`: a custom one ignores `Authorization`). */
  jwtHeader?: string;
  /** ipfilter denies the caller: 403 `Forbidden` except `/index.html` (`73`–`76`). Default false. */
  ipDenied?: boolean;
  /** Emulate the editor entry (form POST → CheckFileInfo, PutFile on empty, Lock, GetFile). Default false (501). */
  editor?: boolean;
  /** Health of DS's dependencies: `/healthcheck` says `true` or `false` (`88`–`91`). Default true. */
  healthy?: boolean;
  /** Full version `major.minor.patch.build`. Default `9.3.1.11`. */
  version?: string;
  /** Outbox secret for ConvertService downloads. Default: the inbox secret, or `test-secret-123`; null = no JWT. */
  outboxSecret?: string | null;
  /** `token.outbox.header`. Default `Authorization` (`83`: a custom one carries the JWT instead). */
  outboxHeader?: string;
  /** ConvertService download attempts (`downloadAttemptMaxCount`). Default 3. */
  downloadAttempts?: number;
  /** Delay between download attempts in ms (`downloadAttemptDelay`). Default 1000. */
  downloadRetryDelayMs?: number;
  /**
   * ConvertService downloads never leave DS: every attempt fails before a request is sent, as with the private-IP
   * filter really applied (`87`: `-4`, the source sees nothing). Default false.
   */
  downloadBlocked?: boolean;
}

/** Extra values for {@link DocServiceDouble.signWopiRequest}. */
export interface WopiSignOptions {
  /** `X-WOPI-SessionId`; default {@link DocServiceDouble.sessionId}. */
  sessionId?: string;
  /** `X-WOPI-CorrelationId`; default a fresh UUID. */
  correlationId?: string;
}

/** One WOPI call the double made as the editor. */
export interface EditorStep {
  op: 'CheckFileInfo' | 'PutFile' | 'Lock' | 'GetFile';
  method: string;
  /** The URL called, without its query (which holds the token). */
  url: string;
  status: number;
  /** Request headers sent, without the proof headers. */
  headers: Record<string, string>;
  /** CheckFileInfo's JSON. */
  json?: Record<string, unknown>;
  /** GetFile: bytes received and their sha256. */
  bytes?: number;
  sha256?: string;
  /** PutFile: bytes sent. */
  sentBytes?: number;
}

/** One editor opening: the form the host page POSTed and what the double then did. */
export interface EditorSession {
  /** `/hosting/wopi/<type>/<mode>` as posted. */
  path: string;
  documentType: string;
  mode: string;
  /** Query of the action URL, keys lower-cased (DS's lowercaseQueryString). */
  query: Record<string, string>;
  /** The POSTed form fields (access_token, access_token_ttl…). */
  form: Record<string, string>;
  contentType: string;
  wopiSrc: string;
  /** 'edit' after a successful Lock; 'view' when the user cannot write or Lock failed; 'error' when opening failed. */
  finalMode: 'edit' | 'view' | 'error';
  steps: EditorStep[];
}

/** A running DocumentServer double. */
export interface DocServiceDouble {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** The configuration in effect (defaults filled in). */
  readonly options: Readonly<Required<DocServiceDoubleOptions>>;
  /** The `usid` used as `X-WOPI-SessionId` by default. */
  readonly sessionId: string;
  /** The current and old proof keys (null when `proofKeys` is false). */
  proofKeys(): { current: ProofKey; old: ProofKey } | null;
  /** As an admin rotating keys on DS: current becomes old, a new current key is made; discovery follows at once. */
  rotateKeys(): void;
  /** Dependencies go down / come back (`88`–`91`: no restart needed). */
  setHealthy(healthy: boolean): void;
  /** Editor openings received (only with the `editor` option), in order. */
  editorSessions: EditorSession[];
  /**
   * Headers DS sends on a WOPI call to `url` (the full request URL with `?access_token=…`, exactly as it will be
   * requested) for `token` (the raw token): `Accept`, `User-Agent: Node.js/6.13`, `X-WOPI-Proof`,
   * `X-WOPI-ProofOld`, `X-WOPI-TimeStamp`, `X-WOPI-ClientVersion`, `X-WOPI-CorrelationId`, `X-WOPI-SessionId`,
   * `Accept-Encoding`, in DS's order. Without proof keys the two proof headers are left out, as DS does.
   *
   * @param now - time in ms since the epoch (default `Date.now()`), turned into .NET ticks
   */
  signWopiRequest(url: string, token: string, now?: number, extra?: WopiSignOptions): Record<string, string>;
  close(): Promise<void>;
}

const DEFAULT_SECRET = 'test-secret-123';
const USER_AGENT = 'Node.js/6.13';
const WOPI_ACCEPT = 'application/json, text/plain, */*';
const WOPI_ACCEPT_ENCODING = 'gzip, compress, deflate, br';
/** `services.CoAuthoring.token.verifyOptions.clockTolerance` default. */
const CLOCK_TOLERANCE_S = 60;

/** CommandService error codes (`c_oAscServerCommandErrors`). */
export const COMMAND_ERROR = {
  NoError: 0,
  DocumentIdError: 1,
  ParseError: 2,
  UnknownError: 3,
  NotModified: 4,
  UnknownCommand: 5,
  Token: 6,
  TokenExpire: 7,
} as const;

/** Commands that need no `key` (DS's `validateInputParams`). */
const COMMANDS_WITHOUT_KEY = new Set(['version', 'license']);
/** Known document commands: the double holds no open document, so they all answer error 1 for any key. */
const DOCUMENT_COMMANDS = new Set(['info', 'drop', 'saved', 'forcesave', 'meta', 'getForgotten', 'deleteForgotten']);

// ----- express-like response helpers

/** express' default weak ETag (`etag` package): `W/"<len hex>-<sha1 base64, 27 chars>"`. */
function weakEtag(body: Buffer): string {
  const hash = createHash('sha1').update(body).digest('base64').substring(0, 27);
  return `W/"${body.length.toString(16)}-${hash}"`;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const etag = weakEtag(buf);
  const inm = req.headers['if-none-match'];
  const fresh =
    (req.method === 'GET' || req.method === 'HEAD') &&
    status >= 200 &&
    status < 300 &&
    typeof inm === 'string' &&
    inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag.replace(/^W\//, ''));
  if (fresh) {
    res.writeHead(304, { ETag: etag });
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(buf.length), ETag: etag });
  res.end(buf);
}

const sendStatusText = (req: IncomingMessage, res: ServerResponse, status: 403 | 404 | 501): void =>
  send(req, res, status, 'text/plain; charset=utf-8', http.STATUS_CODES[status] ?? String(status));

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** express/finalhandler's 404 for a route that does not exist (`40-api-js.http`). */
function sendNoRoute(req: IncomingMessage, res: ServerResponse, pathname: string): void {
  const msg = escapeHtml(`Cannot ${req.method ?? 'GET'} ${pathname}`);
  const body = Buffer.from(
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>${msg}</pre>\n</body>\n</html>\n`,
    'utf8',
  );
  res.writeHead(404, {
    'Content-Security-Policy': "default-src 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(body.length),
  });
  res.end(body);
}

// ----- version strings

function versionParts(version: string): { short: string; build: number; full: string } {
  const parts = version.split('.');
  const short = parts.slice(0, 3).join('.');
  const build = Number(parts[3] ?? '0');
  return { short, build, full: version };
}

/** DS's build date in the captures (the source default, see README). */
const BUILD_DATE = '2016-06-29T00:00:00.000Z';

function indexBanner(version: string): string {
  const v = versionParts(version);
  return (
    `Server is functioning normally. Version: ${v.short}. Build: ${v.build}. Release date: ${BUILD_DATE}. ` +
    'Package type: 0. Customer Id: . Multitenancy: false. Alias: '
  );
}

function capabilitiesJson(version: string): string {
  return JSON.stringify({
    'convert-to': { available: true, endpoint: '/lool/convert-to' },
    hasMobileSupport: true,
    hasProxyPrefix: false,
    hasTemplateSaveAs: false,
    hasTemplateSource: true,
    productVersion: versionParts(version).short,
  });
}

function licenseOutput(version: string): Record<string, unknown> {
  const v = versionParts(version);
  return {
    license: {
      start_date: '2026-11-01T00:00:00.000Z',
      end_date: null,
      timelimited: false,
      trial: false,
      developer: false,
      branding: false,
      customization: false,
      advanced_api: false,
      connections: 20,
      connections_view: 20,
      users_count: 0,
      users_view_count: 0,
      users_expire: 1,
      customer_id: '',
      alias: '',
      multitenancy: false,
    },
    server: {
      workersCount: 1,
      resultType: 3,
      packageType: 0,
      buildDate: BUILD_DATE,
      buildVersion: v.short,
      buildNumber: v.build,
    },
    quota: { users: [], users_view: [] },
  };
}

// ----- request parsing

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Body JSON when there is a body (an unparsable one gives `{}`), else the query string. */
function requestParams(body: Buffer, query: URLSearchParams): Record<string, unknown> {
  if (body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      return isObject(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
  return Object.fromEntries(query.entries());
}

type AuthResult = { code: 'ok'; params: Record<string, unknown> } | { code: 'token' | 'expired'; params: Record<string, unknown> };

// ---------------------------------------------------------------------------------------------------------------

/**
 * Starts a DocumentServer double on 127.0.0.1 (ephemeral port).
 *
 * @param opts - see {@link DocServiceDoubleOptions}
 */
export async function startDocServiceDouble(opts: DocServiceDoubleOptions = {}): Promise<DocServiceDouble> {
  const jwtSecret = opts.jwtSecret === undefined ? DEFAULT_SECRET : opts.jwtSecret;
  const options: Required<DocServiceDoubleOptions> = {
    wopiEnabled: opts.wopiEnabled ?? true,
    editor: opts.editor ?? false,
    proofKeys: opts.proofKeys ?? true,
    jwtSecret,
    jwtHeader: opts.jwtHeader ?? 'Authorization',
    ipDenied: opts.ipDenied ?? false,
    healthy: opts.healthy ?? true,
    version: opts.version ?? '9.3.1.11',
    outboxSecret: opts.outboxSecret === undefined ? (jwtSecret ?? DEFAULT_SECRET) : opts.outboxSecret,
    outboxHeader: opts.outboxHeader ?? 'Authorization',
    downloadAttempts: opts.downloadAttempts ?? 3,
    downloadRetryDelayMs: opts.downloadRetryDelayMs ?? 1000,
    downloadBlocked: opts.downloadBlocked ?? false,
  };
  const discoveryTemplate = readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'discovery.xml'), 'utf8');
  let keys: { current: ProofKey; old: ProofKey } | null = options.proofKeys
    ? { current: newProofKey(), old: newProofKey() }
    : null;
  const sessionId = randomUUID();
  const requests: RecordedRequest[] = [];
  const editorSessions: EditorSession[] = [];

  function baseUrl(req: IncomingMessage): string {
    const first = (v: string | string[] | undefined): string | undefined =>
      (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;
    const proto = first(req.headers['x-forwarded-proto']) ?? 'http';
    const host = first(req.headers['x-forwarded-host']) ?? req.headers.host ?? new URL(double.url).host;
    return `${proto}://${host}`;
  }

  function discoveryXml(req: IncomingMessage): string {
    const xml = discoveryTemplate.split(CAPTURED_DS_ORIGIN).join(baseUrl(req));
    const proof = keys
      ? `<proof-key oldvalue="${keys.old.value}" oldmodulus="${keys.old.modulusB64}" oldexponent="${keys.old.exponentB64}" ` +
        `value="${keys.current.value}" modulus="${keys.current.modulusB64}" exponent="${keys.current.exponentB64}"/>`
      : '';
    return xml.replace(/<proof-key [^>]*\/>/, proof);
  }

  /** DS's getRequestParams: body `token` first, else the inbox header with `Bearer `; claims flat or under payload. */
  function authenticate(req: IncomingMessage, params: Record<string, unknown>): AuthResult {
    if (options.jwtSecret === null) return { code: 'ok', params };
    let token: string | undefined;
    if (typeof params.token === 'string' && params.token !== '') token = params.token;
    else {
      const h = req.headers[options.jwtHeader.toLowerCase()];
      const value = Array.isArray(h) ? h[0] : h;
      if (value?.startsWith('Bearer ')) token = value.substring('Bearer '.length);
    }
    if (token === undefined) return { code: 'token', params };
    try {
      const decoded = jwt.verify(token, options.jwtSecret, { clockTolerance: CLOCK_TOLERANCE_S });
      if (!isObject(decoded)) return { code: 'token', params };
      // tokenRequiredParams (default true): parameters come only from the JWT.
      const fromJwt: Record<string, unknown> = { ...decoded };
      if (isObject(decoded.payload) && Object.keys(decoded.payload).length > 0) Object.assign(fromJwt, decoded.payload);
      if (isObject(decoded.query) && Object.keys(decoded.query).length > 0) Object.assign(fromJwt, decoded.query);
      return { code: 'ok', params: fromJwt };
    } catch (err) {
      return { code: err instanceof jwt.TokenExpiredError ? 'expired' : 'token', params };
    }
  }

  function commandService(req: IncomingMessage, res: ServerResponse, body: Buffer, query: URLSearchParams): void {
    const auth = authenticate(req, requestParams(body, query));
    const params = auth.params;
    const output: Record<string, unknown> = { key: params.key, error: COMMAND_ERROR.NoError, version: undefined };
    if (auth.code === 'expired') output.error = COMMAND_ERROR.TokenExpire;
    else if (auth.code === 'token') output.error = COMMAND_ERROR.Token;
    else if (!(typeof params.c === 'string' && COMMANDS_WITHOUT_KEY.has(params.c)) && typeof params.key !== 'string') {
      output.error = COMMAND_ERROR.DocumentIdError;
    } else if (params.c === 'version') {
      output.version = options.version;
    } else if (params.c === 'license') {
      Object.assign(output, licenseOutput(options.version));
    } else if (typeof params.c === 'string' && DOCUMENT_COMMANDS.has(params.c)) {
      output.error = COMMAND_ERROR.DocumentIdError;
    } else {
      output.error = COMMAND_ERROR.UnknownCommand;
    }
    const buf = Buffer.from(JSON.stringify(output), 'utf8');
    send(req, res, 200, 'application/json', buf);
  }

  function download(url: string): Promise<boolean> {
    if (options.downloadBlocked) return Promise.resolve(false); // `87`: refused by DS's own filter, nothing sent
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve(false);
        return;
      }
      const headers: Record<string, string> = { Accept: WOPI_ACCEPT, 'User-Agent': USER_AGENT, Connection: 'Keep-Alive' };
      if (options.outboxSecret !== null) {
        const token = jwt.sign({ payload: { url } }, options.outboxSecret, { algorithm: 'HS256', expiresIn: 300 });
        headers[options.outboxHeader] = `Bearer ${token}`;
      }
      headers['Accept-Encoding'] = WOPI_ACCEPT_ENCODING;
      headers.Host = target.host;
      const mod = target.protocol === 'https:' ? https : http;
      const r = mod.request(target, { method: 'GET', headers, agent: false, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      });
      r.on('timeout', () => r.destroy(new Error('timeout')));
      r.on('error', () => resolve(false));
      r.end();
    });
  }

  async function convertService(req: IncomingMessage, res: ServerResponse, body: Buffer, query: URLSearchParams): Promise<void> {
    const auth = authenticate(req, requestParams(body, query));
    let error: number;
    if (auth.code !== 'ok') error = -8;
    else {
      const url = auth.params.url;
      let ok = false;
      if (typeof url === 'string') {
        for (let attempt = 1; attempt <= options.downloadAttempts && !ok; attempt++) {
          if (attempt > 1) await new Promise((r) => setTimeout(r, options.downloadRetryDelayMs));
          ok = await download(url);
        }
      }
      // Downloaded: the conversion itself fails like DS without x2t (-3). Download failed: -4.
      error = ok ? -3 : -4;
    }
    const accept = req.headers.accept ?? '';
    if (accept.includes('application/json')) {
      send(req, res, 200, 'application/json; charset=UTF-8', JSON.stringify({ error }));
    } else {
      send(
        req,
        res,
        200,
        'text/xml; charset=UTF-8',
        `<?xml version="1.0" encoding="utf-8"?><FileResult><Error>${error}</Error></FileResult>`,
      );
    }
  }

  /** One WOPI call to the host, signed like DS signs it. */
  async function wopiCall(
    op: EditorStep['op'],
    method: string,
    wopiUrl: string,
    token: string,
    extraHeaders: Record<string, string>,
    sendBody?: Buffer,
  ): Promise<{ step: EditorStep; body: Buffer }> {
    const full = `${wopiUrl}?access_token=${encodeURIComponent(token)}`;
    const headers: Record<string, string> = { ...double.signWopiRequest(full, token), ...extraHeaders };
    if (sendBody) headers['Content-Length'] = String(sendBody.length);
    const res = await fetch(full, { method, headers, ...(sendBody ? { body: sendBody } : {}) });
    const buf = Buffer.from(await res.arrayBuffer());
    const shown = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^x-wopi-proof/i.test(k)));
    const step: EditorStep = { op, method, url: wopiUrl, status: res.status, headers: shown };
    if (sendBody) step.sentBytes = sendBody.length;
    return { step, body: buf };
  }

  /** DS's editor entry (reference §1.2–1.3), reduced to the WOPI calls it makes while opening a document. */
  async function editorEntry(req: IncomingMessage, res: ServerResponse, body: Buffer, parsed: URL): Promise<void> {
    const query: Record<string, string> = {};
    for (const [k, v] of parsed.searchParams) query[k.toLowerCase()] ??= v;
    const form: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) form[k] ??= v;
    const [, , , documentType = '', mode = ''] = parsed.pathname.split('/');
    const session: EditorSession = {
      path: parsed.pathname,
      documentType,
      mode,
      query,
      form,
      contentType: String(req.headers['content-type'] ?? ''),
      wopiSrc: query.wopisrc ?? '',
      finalMode: 'error',
      steps: [],
    };
    editorSessions.push(session);
    const token = form.access_token ?? '';
    const page = (text: string): void =>
      send(
        req,
        res,
        200,
        'text/html; charset=utf-8',
        `<!DOCTYPE html>\n<html><head><title>ONLYOFFICE</title></head><body><div id="editor-double" data-mode="${session.finalMode}">${escapeHtml(text)}</div></body></html>\n`,
      );
    if (session.wopiSrc === '' || token === '') {
      page('The editor could not be loaded (no WOPISrc or access_token).');
      return;
    }
    const cfi = await wopiCall('CheckFileInfo', 'GET', session.wopiSrc, token, {});
    session.steps.push(cfi.step);
    if (cfi.step.status !== 200) {
      page('The editor could not be loaded.');
      return;
    }
    let info: Record<string, unknown> = {};
    try {
      info = JSON.parse(cfi.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      // DS renders with an empty fileInfo
    }
    cfi.step.json = info;
    const fileId = session.wopiSrc.substring(session.wopiSrc.lastIndexOf('/') + 1);
    const docId = fileId.replace(/[^0-9\-.a-zA-Z_=]/g, '_').substring(0, 240);
    const contents = `${session.wopiSrc}/contents`;
    const canWrite = info.UserCanWrite === true;
    let finalMode: 'edit' | 'view' = mode === 'edit' && canWrite ? 'edit' : 'view';
    if (mode === 'edit' && info.Size === 0) {
      // editnew: DS fills the empty file from its template, without a lock (lockId undefined, no X-WOPI-Lock).
      const template = readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'wopi-from-docservice', 's2-edit-file2-empty-02-PutFile.body.docx'));
      const put = await wopiCall('PutFile', 'POST', contents, token, { 'X-WOPI-Override': 'PUT', 'Content-Type': 'application/octet-stream' }, template);
      session.steps.push(put.step);
    }
    if (finalMode === 'edit' && info.SupportsLocks === true) {
      const lock = await wopiCall('Lock', 'POST', session.wopiSrc, token, { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': docId });
      session.steps.push(lock.step);
      if (lock.step.status !== 200) finalMode = 'view'; // DS retries once in view mode
    }
    const get = await wopiCall('GetFile', 'GET', contents, token, { 'X-WOPI-MaxExpectedSize': '104857600' });
    get.step.bytes = get.body.length;
    get.step.sha256 = createHash('sha256').update(get.body).digest('hex');
    session.steps.push(get.step);
    session.finalMode = get.step.status === 200 ? finalMode : 'error';
    page(get.step.status === 200 ? `Editing ${String(info.BaseFileName ?? '')} (${session.finalMode})` : 'The document could not be downloaded.');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = req.url ?? '/';
    requests.push({ method: req.method ?? '', target, headers: req.headers, body });
    const parsed = new URL(target, 'http://double.invalid');
    // express routing: case-insensitive, one trailing slash ignored
    const route = parsed.pathname.toLowerCase().replace(/(.)\/$/, '$1');
    const method = req.method ?? 'GET';
    const isGet = method === 'GET' || method === 'HEAD';

    if (isGet && route === '/index.html') {
      send(req, res, 200, 'text/html; charset=utf-8', indexBanner(options.version));
      return;
    }
    if (isGet && route === '/healthcheck') {
      if (options.ipDenied) sendStatusText(req, res, 403);
      else send(req, res, 200, 'text/plain; charset=utf-8', options.healthy ? 'true' : 'false');
      return;
    }
    const hostingGet = isGet && (route === '/hosting/discovery' || route === '/hosting/capabilities');
    const hostingAction = method === 'POST' && /^\/hosting\/wopi\/[^/]+\/[^/]+(\/[^/]+)?$/.test(route);
    if (hostingGet || hostingAction) {
      if (!options.wopiEnabled) sendStatusText(req, res, 404);
      else if (options.ipDenied) sendStatusText(req, res, 403);
      else if (route === '/hosting/discovery') send(req, res, 200, 'text/xml; charset=utf-8', discoveryXml(req));
      else if (route === '/hosting/capabilities') {
        send(req, res, 200, 'application/json; charset=UTF-8', capabilitiesJson(options.version));
      } else if (options.editor) await editorEntry(req, res, body, parsed);
      else sendStatusText(req, res, 501); // editor page + CheckFileInfo/Lock: only with the `editor` option
      return;
    }
    if ((isGet || method === 'POST') && route === '/coauthoring/commandservice.ashx') {
      if (options.ipDenied) sendStatusText(req, res, 403);
      else commandService(req, res, body, parsed.searchParams);
      return;
    }
    if (method === 'POST' && route === '/convertservice.ashx') {
      if (options.ipDenied) sendStatusText(req, res, 403);
      else await convertService(req, res, body, parsed.searchParams);
      return;
    }
    sendNoRoute(req, res, parsed.pathname);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const double: DocServiceDouble = {
    url: `http://127.0.0.1:${port}`,
    requests,
    options,
    sessionId,
    proofKeys: () => keys,
    rotateKeys() {
      if (!keys) throw new Error('rotateKeys: the double runs without proof keys (proofKeys: false)');
      keys = { current: newProofKey(), old: keys.current };
    },
    editorSessions,
    setHealthy(healthy: boolean) {
      options.healthy = healthy;
    },
    signWopiRequest(url: string, token: string, now: number = Date.now(), extra: WopiSignOptions = {}) {
      const ticks = wopiTicks(now);
      const headers: Record<string, string> = { Accept: WOPI_ACCEPT, 'User-Agent': USER_AGENT };
      if (keys) {
        const data = wopiProofData(url, token, ticks);
        headers['X-WOPI-Proof'] = sign('RSA-SHA256', data, keys.current.privateKey).toString('base64');
        headers['X-WOPI-ProofOld'] = sign('RSA-SHA256', data, keys.old.privateKey).toString('base64');
      }
      headers['X-WOPI-TimeStamp'] = ticks.toString();
      headers['X-WOPI-ClientVersion'] = options.version;
      headers['X-WOPI-CorrelationId'] = extra.correlationId ?? randomUUID();
      headers['X-WOPI-SessionId'] = extra.sessionId ?? sessionId;
      headers['Accept-Encoding'] = WOPI_ACCEPT_ENCODING;
      return headers;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
  return double;
}
