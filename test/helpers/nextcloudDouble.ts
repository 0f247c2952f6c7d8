/**
 * In-memory Nextcloud 32 WebDAV test double.
 *
 * Answers like the real Nextcloud 32.0.1 captures in `../shared/fixtures/nextcloud/` (status codes and reason
 * phrases, header names and order, quoted ETags, Sabre XML error bodies, PROPFIND multistatus shape with the separate
 * `404 Not Found` propstat). Built on plain `node:http`, listening on 127.0.0.1 with an ephemeral port.
 *
 * Supported: `GET /status.php`; Basic auth (401 like `a-get-wrong-password-401`); on `/remote.php/dav/files/<user>/…`
 * and the legacy `/remote.php/webdav/…`: PROPFIND (Depth 0/1/infinity, prop / allprop / propname, `Brief`/`Prefer`),
 * GET (Range, If-None-Match → 304), HEAD, PUT (If-Match / If-None-Match / If-Unmodified-Since, X-OC-Mtime,
 * OC-Checksum), MKCOL, DELETE, MOVE, COPY (Destination + Overwrite), OPTIONS, LOCK/UNLOCK (501, or Nextcloud's fake
 * locker for `WebDAVFS`/`OneNote`/`Microsoft-WebDAV*` user agents); `SEARCH /remote.php/dav/` (`d:basicsearch`);
 * chunked upload v2 under `/remote.php/dav/uploads/<user>/<id>`; 423 `FileLocked` for writes while a download of
 * the same file is still streaming (see {@link NextcloudDouble.holdDownloads}).
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import xml2js from 'xml2js';

/** One request received by the double (logged before authentication). */
export interface RecordedRequest {
  /** HTTP method, upper case as sent (`PROPFIND`, `PUT`, …). */
  method: string;
  /** The raw request target as sent, still percent-encoded, including any query string. */
  path: string;
  /** Request headers (Node's lower-cased view). */
  headers: IncomingHttpHeaders;
}

/** Options for {@link startNextcloudDouble}. */
export interface NextcloudDoubleOptions {
  /** Login name → password. Default `{ alice: 'alice-pass-123', admin: 'admin-pass-123' }` (as in the captures). */
  users?: Record<string, string>;
}

/** A running Nextcloud test double. */
export interface NextcloudDouble {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  origin: string;
  /** WebDAV root of a user's files: `${origin}/remote.php/dav/files/${user}` (no trailing slash). */
  davUrl(user: string): string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /**
   * When on, every GET of a file sends its headers and the first half of the body, then keeps the response open
   * (holding Nextcloud's shared file lock) until {@link NextcloudDouble.releaseDownloads} is called. Meanwhile a PUT,
   * DELETE, MOVE or COPY-onto that file gets `423 Locked` / `FileLocked` like `a-put-while-being-read-423`.
   * Turning it off also releases the downloads currently held.
   */
  holdDownloads(on: boolean): void;
  /** Finishes every download currently held (holding stays on for later GETs if it was on). */
  releaseDownloads(): void;
  /** Resolves as soon as at least one download is being held (immediately if one already is). */
  downloadHeld(): Promise<void>;
  /**
   * Simulates a change made in Nextcloud's web UI: writes `bytes` to the file (creating it and any missing parent
   * folders if needed), with a new etag and mtime; an existing file keeps its file id.
   */
  putFileDirect(user: string, path: string, bytes: Buffer): void;
  /** Creates a folder (and missing parents) directly; no-op if it already exists. */
  mkdirDirect(user: string, path: string): void;
  /** Current content of a file, or `null` if there is no file at that path. */
  readFileDirect(user: string, path: string): Buffer | null;
  /** Numeric file id (`oc:fileid`, e.g. `"85"`) of a file or folder, or `null` if the path does not exist. */
  fileIdOf(user: string, path: string): string | null;
  /** Current quoted ETag (`"…"`) of a file or folder, or `null` if the path does not exist. */
  etagOf(user: string, path: string): string | null;
  /** Stops the server (held downloads are released, open connections closed). */
  close(): Promise<void>;
}

/** The instance id used in `OC-FileId` / `oc:id` (the one from the captured server). */
export const NEXTCLOUD_DOUBLE_INSTANCE_ID = 'ocr9vf0pkpqt';

const NS_DAV = 'DAV:';
const NS_SABRE = 'http://sabredav.org/ns';
const NS_OC = 'http://owncloud.org/ns';
const NS_NC = 'http://nextcloud.org/ns';
const KNOWN_PREFIXES: ReadonlyMap<string, string> = new Map([
  [NS_DAV, 'd'],
  [NS_SABRE, 's'],
  [NS_OC, 'oc'],
  [NS_NC, 'nc'],
]);

const DAV_HEADER_FILES =
  '1, 3, extended-mkcol, access-control, calendarserver-principal-property-search, nc-paginate, nextcloud-checksum-update, nc-calendar-search, nc-enable-birthday-calendar';
const DAV_HEADER_FILES_MS =
  '1, 3, extended-mkcol, access-control, calendarserver-principal-property-search, nc-paginate, 2, nextcloud-checksum-update, nc-calendar-search, nc-enable-birthday-calendar';
const DAV_HEADER_LEGACY = '1, 3, extended-mkcol, nextcloud-checksum-update';
const DAV_HEADER_LEGACY_MS = '1, 3, extended-mkcol, 2, nextcloud-checksum-update';

const STATUS_JSON =
  '{"installed":true,"maintenance":false,"needsDbUpgrade":false,"version":"32.0.1.2","versionstring":"32.0.1","edition":"","productname":"Nextcloud","extendedSupport":false}';

const NOT_AUTHENTICATED_MESSAGE =
  "No public access to this resource., AppAPIAuth has not passed, This request is not for a federated calendar, Username or password was incorrect, No 'Authorization: Bearer' header found. Either the client didn't send one, or the server is mis-configured, Username or password was incorrect";

const TEXT_HTML = 'text/html; charset=UTF-8';
const XML_UTF8 = 'application/xml; charset=utf-8';

/** Reason phrases as Sabre/PHP sends them (412 differs from Node's default). */
const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition failed',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  423: 'Locked',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

const MIME_BY_EXT: Readonly<Record<string, string>> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  odg: 'application/vnd.oasis.opendocument.graphics',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  rtf: 'text/rtf',
  html: 'text/html',
  xml: 'application/xml',
  json: 'application/json',
  pdf: 'application/pdf',
  zip: 'application/zip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  mp4: 'video/mp4',
  mp3: 'audio/mpeg',
};

// ---------------------------------------------------------------------------------------------------------------
// Tree model

interface BaseNode {
  name: string;
  fileId: number;
  /** Unquoted etag. */
  etag: string;
  /** Seconds since the epoch. */
  mtime: number;
  uploadTime: number;
  parent: FolderNode | null;
}

interface FileNode extends BaseNode {
  kind: 'file';
  data: Buffer;
  checksum: string | null;
}

interface FolderNode extends BaseNode {
  kind: 'folder';
  children: Map<string, TreeNode>;
}

type TreeNode = FileNode | FolderNode;

interface UploadSession {
  chunks: Map<string, Buffer>;
}

/** A WebDAV-level error rendered as a Sabre `d:error` body. */
class DavError extends Error {
  constructor(
    readonly status: number,
    readonly exception: string,
    message: string,
    readonly extra: {
      /** `s:header` element of the body. */
      header?: string;
      /** Response headers sent before `Content-Type`. */
      headers?: Array<[string, string]>;
      /** Response headers sent after `Content-Type`. */
      trailingHeaders?: Array<[string, string]>;
      /** Complete body replacing the standard Sabre one. */
      body?: string;
    } = {},
  ) {
    super(message);
  }
}

const notFound = (message: string): DavError => new DavError(404, 'Sabre\\DAV\\Exception\\NotFound', message);
const badRequest = (message: string): DavError => new DavError(400, 'Sabre\\DAV\\Exception\\BadRequest', message);
const conflict = (message: string): DavError => new DavError(409, 'Sabre\\DAV\\Exception\\Conflict', message);
const forbidden = (message: string): DavError => new DavError(403, 'Sabre\\DAV\\Exception\\Forbidden', message);
const preconditionFailed = (message: string, header: string, headers: Array<[string, string]> = []): DavError =>
  new DavError(412, 'Sabre\\DAV\\Exception\\PreconditionFailed', message, { header, headers });
const notImplemented = (method: string, suffix = ''): DavError =>
  new DavError(
    501,
    'Sabre\\DAV\\Exception\\NotImplemented',
    `There was no plugin in the system that was willing to handle this ${method} method.${suffix}`,
  );
const fileLocked = (displayPath: string): DavError =>
  new DavError(423, 'OCA\\DAV\\Connector\\Sabre\\Exception\\FileLocked', `"${displayPath}" is locked`);

function invalidPath(message: string): DavError {
  const body =
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:o="http://owncloud.org/ns">\n' +
    '  <s:exception>OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath</s:exception>\n' +
    `  <s:message>${escapeErrorText(message)}</s:message>\n` +
    '  <o:retry xmlns:o="o:">false</o:retry>\n' +
    `  <o:reason xmlns:o="o:">${escapeErrorText(message)}</o:reason>\n` +
    '</d:error>\n';
  return new DavError(400, 'OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath', message, { body });
}

function sabreErrorBody(exception: string, message: string, header?: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n' +
    `  <s:exception>${escapeErrorText(exception)}</s:exception>\n` +
    `  <s:message>${escapeErrorText(message)}</s:message>\n` +
    (header !== undefined ? `  <s:header>${escapeErrorText(header)}</s:header>\n` : '') +
    '</d:error>\n'
  );
}

/** Text escaping of Sabre's error bodies (built with DOMDocument: quotes stay as they are). */
function escapeErrorText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text escaping as libxml's XMLWriter does it for Sabre's multistatus (quotes become `&quot;`). */
function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Sabre\HTTP\encodePath: everything but `A-Za-z0-9_-.~()/:@` becomes lower-case `%xx`, byte-wise (UTF-8). */
function sabreEncodePath(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_\-.~()/:@]/.test(ch) ? ch : '%' + byte.toString(16).padStart(2, '0');
  }
  return out;
}

/** PHP rawurlencode (upper-case hex, keeps `A-Za-z0-9-_.~`). */
function rawUrlEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function mimeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return 'application/octet-stream';
  return MIME_BY_EXT[name.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

function hasPreview(node: TreeNode): boolean {
  if (node.kind !== 'file') return false;
  const mime = mimeOf(node.name);
  return mime.startsWith('image/') || mime === 'text/markdown' || mime === 'text/plain';
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}

function newFileEtag(): string {
  return randomBytes(16).toString('hex');
}

let lastUniqidMicros = 0n;
/** PHP uniqid(): 8 hex seconds + 5 hex microseconds = 13 hex (Nextcloud's folder etags). Strictly increasing. */
function newFolderEtag(): string {
  let micros = BigInt(Date.now()) * 1000n;
  if (micros <= lastUniqidMicros) micros = lastUniqidMicros + 1n;
  lastUniqidMicros = micros;
  return (micros / 1000000n).toString(16).padStart(8, '0') + (micros % 1000000n).toString(16).padStart(5, '0');
}

function ocId(fileId: number): string {
  return String(fileId).padStart(8, '0') + NEXTCLOUD_DOUBLE_INSTANCE_ID;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function displayPathOf(segs: readonly string[]): string {
  return '/' + segs.join('/');
}

function nodeSize(node: TreeNode): number {
  if (node.kind === 'file') return node.data.length;
  let total = 0;
  for (const child of node.children.values()) total += nodeSize(child);
  return total;
}

function sortedChildren(folder: FolderNode): TreeNode[] {
  return [...folder.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function nodeSegments(node: TreeNode): string[] {
  const segs: string[] = [];
  for (let cur: TreeNode | null = node; cur && cur.parent; cur = cur.parent) segs.unshift(cur.name);
  return segs;
}

/** Nextcloud's FilenameValidator for the names the double cares about. */
function checkName(name: string): void {
  const lower = name.toLowerCase();
  for (const ext of ['.part', '.filepart']) {
    if (lower.endsWith(ext)) throw invalidPath(`"${ext}" is a forbidden file type.`);
  }
  if (lower === '.htaccess') throw invalidPath(`"${name}" is a forbidden file or folder name.`);
}

// ---------------------------------------------------------------------------------------------------------------
// Minimal namespace-aware XML tree on top of xml2js

interface XmlEl {
  ns: string;
  local: string;
  text: string;
  children: XmlEl[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toXmlEl(raw: unknown): XmlEl {
  if (!isRecord(raw)) return { ns: '', local: '', text: typeof raw === 'string' ? raw : '', children: [] };
  const nsInfo = raw['$ns'];
  const ns = isRecord(nsInfo) && typeof nsInfo['uri'] === 'string' ? nsInfo['uri'] : '';
  const name = typeof raw['#name'] === 'string' ? raw['#name'] : '';
  const local =
    isRecord(nsInfo) && typeof nsInfo['local'] === 'string' ? nsInfo['local'] : name.slice(name.indexOf(':') + 1);
  const text = typeof raw['_'] === 'string' ? raw['_'] : '';
  const kids = raw['$$'];
  const children = Array.isArray(kids) ? kids.map(toXmlEl) : [];
  return { ns, local, text, children };
}

async function parseXml(body: string): Promise<XmlEl> {
  let parsed: unknown;
  try {
    parsed = await xml2js.parseStringPromise(body, {
      xmlns: true,
      explicitChildren: true,
      preserveChildrenOrder: true,
      explicitRoot: true,
    });
  } catch (e) {
    throw badRequest(`The request body had an invalid XML body. (message: "${(e as Error).message}")`);
  }
  if (!isRecord(parsed)) throw badRequest('The request body had an invalid XML body.');
  const rootKey = Object.keys(parsed)[0];
  if (rootKey === undefined) throw badRequest('The request body had an invalid XML body.');
  const root = parsed[rootKey];
  // With explicitRoot the root has no '#name'; restore it from the key.
  if (isRecord(root) && typeof root['#name'] !== 'string') root['#name'] = rootKey;
  return toXmlEl(root);
}

function child(el: XmlEl, ns: string, local: string): XmlEl | undefined {
  return el.children.find((c) => c.ns === ns && c.local === local);
}

function clark(ns: string, local: string): string {
  return `{${ns}}${local}`;
}

function parseClark(name: string): { ns: string; local: string } {
  const end = name.indexOf('}');
  return { ns: name.slice(1, end), local: name.slice(end + 1) };
}

/** Renders `{ns}local` elements with Sabre's prefixes (`d`, `s`, `oc`, `nc`, ad-hoc `x1`… otherwise). */
class ElementNamer {
  private readonly adhoc = new Map<string, string>();

  open(clarkName: string): { tag: string; decl: string } {
    const { ns, local } = parseClark(clarkName);
    const known = KNOWN_PREFIXES.get(ns);
    if (known) return { tag: `${known}:${local}`, decl: '' };
    if (ns === '') return { tag: local, decl: ' xmlns=""' };
    let prefix = this.adhoc.get(ns);
    if (!prefix) {
      prefix = `x${this.adhoc.size + 1}`;
      this.adhoc.set(ns, prefix);
    }
    return { tag: `${prefix}:${local}`, decl: ` xmlns:${prefix}="${escapeText(ns)}"` };
  }

  element(clarkName: string, inner: string): string {
    const { tag, decl } = this.open(clarkName);
    return inner === '' ? `<${tag}${decl}/>` : `<${tag}${decl}>${inner}</${tag}>`;
  }
}

const MULTISTATUS_OPEN =
  '<?xml version="1.0"?>\n<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">';
const MULTISTATUS_CLOSE = '</d:multistatus>\n';

const P = {
  getetag: clark(NS_DAV, 'getetag'),
  getcontentlength: clark(NS_DAV, 'getcontentlength'),
  getlastmodified: clark(NS_DAV, 'getlastmodified'),
  resourcetype: clark(NS_DAV, 'resourcetype'),
  getcontenttype: clark(NS_DAV, 'getcontenttype'),
  displayname: clark(NS_DAV, 'displayname'),
  quotaUsed: clark(NS_DAV, 'quota-used-bytes'),
  quotaAvailable: clark(NS_DAV, 'quota-available-bytes'),
  fileid: clark(NS_OC, 'fileid'),
  id: clark(NS_OC, 'id'),
  permissions: clark(NS_OC, 'permissions'),
  size: clark(NS_OC, 'size'),
  checksums: clark(NS_OC, 'checksums'),
  ownerId: clark(NS_OC, 'owner-id'),
  ownerDisplayName: clark(NS_OC, 'owner-display-name'),
  favorite: clark(NS_OC, 'favorite'),
  hasPreview: clark(NS_NC, 'has-preview'),
  uploadTime: clark(NS_NC, 'upload_time'),
  creationTime: clark(NS_NC, 'creation_time'),
  shareAttributes: clark(NS_NC, 'share-attributes'),
} as const;

/** Sabre's allprop list, in Sabre's order. */
const ALLPROP = [
  P.getlastmodified,
  P.getcontentlength,
  P.resourcetype,
  P.quotaUsed,
  P.quotaAvailable,
  P.getetag,
  P.getcontenttype,
];

type PropRequest = { mode: 'prop'; props: string[] } | { mode: 'allprop' } | { mode: 'propname' };

// ---------------------------------------------------------------------------------------------------------------
// Request plumbing

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  body: Buffer;
  user: string;
}

/** Where a request landed: a user's files via the new or the legacy endpoint. */
interface Endpoint {
  legacy: boolean;
  user: string;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

function send(res: ServerResponse, status: number, headers: Array<[string, string]>, body?: Buffer | string): void {
  const flat: string[] = [];
  for (const [k, v] of headers) flat.push(k, v);
  res.writeHead(status, REASONS[status] ?? http.STATUS_CODES[status] ?? '', flat);
  res.end(body);
}

function sendDavError(res: ServerResponse, err: DavError): void {
  const body = err.extra.body ?? sabreErrorBody(err.exception, err.message, err.extra.header);
  const headers: Array<[string, string]> = [
    ...(err.extra.headers ?? []),
    ['Content-Type', XML_UTF8],
    ...(err.extra.trailingHeaders ?? []),
  ];
  send(res, err.status, headers, body);
}

function isFakeLockerUa(req: IncomingMessage): boolean {
  const ua = header(req, 'User-Agent') ?? '';
  return /WebDAVFS/.test(ua) || /OneNote/.test(ua) || /^Microsoft-WebDAV/.test(ua);
}

/** Like Sabre's decodePath: rawurldecode, then UTF-8 if valid, else ISO-8859-1. */
function percentDecode(seg: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < seg.length; ) {
    const hex = seg.slice(i + 1, i + 3);
    if (seg[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    const code = seg.codePointAt(i) ?? 0;
    if (code <= 0xff) bytes.push(code);
    else bytes.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
    i += code > 0xffff ? 2 : 1;
  }
  const buf = Buffer.from(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return buf.toString('latin1');
  }
}

function decodeSegments(rawPath: string): string[] {
  const out: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '') continue;
    const decoded = percentDecode(seg);
    if (decoded.includes('/')) throw badRequest('Invalid path');
    out.push(decoded);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

class DoubleServer {
  readonly requests: RecordedRequest[] = [];
  private readonly users: Record<string, string>;
  private readonly homes = new Map<string, FolderNode>();
  private readonly uploads = new Map<string, UploadSession>();
  private readonly readers = new Map<number, number>();
  private readonly held: Array<() => void> = [];
  private heldWaiters: Array<() => void> = [];
  private holding = false;
  private nextFileId = 83;
  private readonly server: http.Server;
  origin = '';

  constructor(users: Record<string, string>) {
    this.users = { ...users };
    for (const user of Object.keys(this.users)) this.homeOf(user);
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${addr.port}`;
  }

  async close(): Promise<void> {
    this.holding = false;
    this.releaseDownloads();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // -- test hooks ------------------------------------------------------------------------------------------------

  holdDownloads(on: boolean): void {
    this.holding = on;
    if (!on) this.releaseDownloads();
  }

  releaseDownloads(): void {
    const releases = this.held.splice(0);
    for (const release of releases) release();
  }

  downloadHeld(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.heldWaiters.push(resolve));
  }

  putFileDirect(user: string, path: string, bytes: Buffer): void {
    const segs = splitPath(path);
    const name = segs.pop();
    if (name === undefined) throw new Error('putFileDirect: empty path');
    const parent = this.ensureFolders(user, segs);
    const existing = parent.children.get(name);
    if (existing && existing.kind === 'folder') throw new Error(`putFileDirect: ${path} is a folder`);
    this.writeFile(parent, name, Buffer.from(bytes), {});
  }

  mkdirDirect(user: string, path: string): void {
    this.ensureFolders(user, splitPath(path));
  }

  readFileDirect(user: string, path: string): Buffer | null {
    const node = this.lookup(user, path);
    return node && node.kind === 'file' ? Buffer.from(node.data) : null;
  }

  fileIdOf(user: string, path: string): string | null {
    const node = this.lookup(user, path);
    return node ? String(node.fileId) : null;
  }

  etagOf(user: string, path: string): string | null {
    const node = this.lookup(user, path);
    return node ? `"${node.etag}"` : null;
  }

  // -- tree ------------------------------------------------------------------------------------------------------

  private homeOf(user: string): FolderNode {
    let home = this.homes.get(user);
    if (!home) {
      home = this.newFolder('', null);
      this.homes.set(user, home);
    }
    return home;
  }

  private newFolder(name: string, parent: FolderNode | null): FolderNode {
    const now = nowSeconds();
    return {
      kind: 'folder',
      name,
      fileId: this.nextFileId++,
      etag: newFolderEtag(),
      mtime: now,
      uploadTime: now,
      parent,
      children: new Map(),
    };
  }

  private lookup(user: string, path: string): TreeNode | null {
    if (!this.homes.has(user)) return null;
    let cur: TreeNode = this.homeOf(user);
    for (const seg of splitPath(path)) {
      if (cur.kind !== 'folder') return null;
      const next: TreeNode | undefined = cur.children.get(seg);
      if (!next) return null;
      cur = next;
    }
    return cur;
  }

  private ensureFolders(user: string, segs: readonly string[]): FolderNode {
    let cur = this.homeOf(user);
    for (const seg of segs) {
      const next = cur.children.get(seg);
      if (next && next.kind === 'file') throw new Error(`${seg} is a file`);
      if (next) {
        cur = next;
        continue;
      }
      const folder = this.newFolder(seg, cur);
      cur.children.set(seg, folder);
      this.propagate(cur);
      cur = folder;
    }
    return cur;
  }

  /** Nextcloud's propagator: new etag and mtime = max(mtime, now) for the folder and all its ancestors. */
  private propagate(from: FolderNode | null): void {
    const now = nowSeconds();
    for (let cur = from; cur; cur = cur.parent) {
      cur.etag = newFolderEtag();
      cur.mtime = Math.max(cur.mtime, now);
    }
  }

  private writeFile(
    parent: FolderNode,
    name: string,
    data: Buffer,
    opts: { mtime?: number; checksum?: string },
  ): { node: FileNode; created: boolean } {
    const now = nowSeconds();
    const existing = parent.children.get(name);
    if (existing && existing.kind === 'file') {
      existing.data = data;
      existing.etag = newFileEtag();
      existing.mtime = opts.mtime ?? now;
      existing.checksum = opts.checksum ?? null;
      this.propagate(parent);
      return { node: existing, created: false };
    }
    const node: FileNode = {
      kind: 'file',
      name,
      fileId: this.nextFileId++,
      etag: newFileEtag(),
      mtime: opts.mtime ?? now,
      uploadTime: now,
      parent,
      data,
      checksum: opts.checksum ?? null,
    };
    parent.children.set(name, node);
    this.propagate(parent);
    return { node, created: true };
  }

  private detach(node: TreeNode): void {
    const parent = node.parent;
    if (!parent) return;
    parent.children.delete(node.name);
    node.parent = null;
    this.propagate(parent);
  }

  private copyTree(node: TreeNode, name: string, parent: FolderNode): TreeNode {
    const now = nowSeconds();
    if (node.kind === 'file') {
      return {
        kind: 'file',
        name,
        fileId: this.nextFileId++,
        etag: newFileEtag(),
        mtime: node.mtime,
        uploadTime: now,
        parent,
        data: Buffer.from(node.data),
        checksum: node.checksum,
      };
    }
    const folder = this.newFolder(name, parent);
    folder.mtime = node.mtime;
    for (const c of sortedChildren(node)) folder.children.set(c.name, this.copyTree(c, c.name, folder));
    return folder;
  }

  /**
   * Resolves a path like Nextcloud's Directory::getChild chain: forbidden names → 400 InvalidPath, a missing
   * segment → 404 "File with name <parent>/<name> could not be located" (the root's own path being "/").
   */
  private resolve(user: string, segs: readonly string[]): TreeNode {
    let cur: TreeNode = this.homeOf(user);
    let curPath = '/';
    for (const name of segs) {
      checkName(name);
      if (cur.kind !== 'folder') throw notFound(`Could not find node at path: ${segs.join('/')}`);
      const next: TreeNode | undefined = cur.children.get(name);
      if (!next) throw notFound(`File with name ${curPath}/${name} could not be located`);
      cur = next;
      curPath = curPath === '/' ? `/${name}` : `${curPath}/${name}`;
    }
    return cur;
  }

  private tryResolve(user: string, segs: readonly string[]): TreeNode | null {
    try {
      return this.resolve(user, segs);
    } catch (e) {
      if (e instanceof DavError && e.status === 404) return null;
      throw e;
    }
  }

  private resolveFolder(user: string, segs: readonly string[], notCollection: () => DavError): FolderNode {
    const node = this.resolve(user, segs);
    if (node.kind !== 'folder') throw notCollection();
    return node;
  }

  // -- locks -----------------------------------------------------------------------------------------------------

  private lockedFileIn(node: TreeNode): FileNode | null {
    if (node.kind === 'file') return (this.readers.get(node.fileId) ?? 0) > 0 ? node : null;
    for (const c of node.children.values()) {
      const hit = this.lockedFileIn(c);
      if (hit) return hit;
    }
    return null;
  }

  private assertNotLocked(node: TreeNode | null): void {
    if (!node) return;
    const locked = this.lockedFileIn(node);
    if (locked) throw fileLocked(displayPathOf(nodeSegments(locked)));
  }

  // -- dispatch --------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      res.destroy();
      return;
    }
    const body = Buffer.concat(chunks);
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    this.requests.push({ method, path: target, headers: { ...req.headers } });
    try {
      await this.route(req, res, method, target, body);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof DavError) {
        sendDavError(res, e);
      } else {
        const msg = e instanceof Error ? e.message : String(e);
        sendDavError(res, new DavError(500, 'Exception', msg));
      }
    }
  }

  private authenticate(req: IncomingMessage): string | null {
    const auth = header(req, 'Authorization');
    const m = auth ? /^Basic\s+(\S+)$/i.exec(auth) : null;
    if (!m || m[1] === undefined) return null;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    return Object.prototype.hasOwnProperty.call(this.users, user) && this.users[user] === password ? user : null;
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    target: string,
    body: Buffer,
  ): Promise<void> {
    const rawPath = target.split('?')[0] ?? '/';
    if (rawPath === '/status.php' && (method === 'GET' || method === 'HEAD')) {
      send(res, 200, [['Access-Control-Allow-Origin', '*'], ['Content-Type', 'application/json']], STATUS_JSON);
      return;
    }
    if (!rawPath.startsWith('/remote.php/')) {
      send(res, 404, [['Content-Type', TEXT_HTML]], '');
      return;
    }
    const user = this.authenticate(req);
    if (!user) {
      const err = new DavError(401, 'Sabre\\DAV\\Exception\\NotAuthenticated', NOT_AUTHENTICATED_MESSAGE, {
        headers: [['WWW-Authenticate', 'Basic realm="Nextcloud", charset="UTF-8"']],
      });
      sendDavError(res, err);
      return;
    }
    const ctx: Ctx = { req, res, method, body, user };
    const segs = decodeSegments(rawPath);
    const area = segs[1];
    if (area === 'webdav') {
      await this.files(ctx, { legacy: true, user }, segs.slice(2));
      return;
    }
    if (area !== 'dav') {
      send(res, 404, [['Content-Type', TEXT_HTML]], '');
      return;
    }
    const rest = segs.slice(2);
    if (rest.length === 0) {
      if (method === 'SEARCH') {
        await this.search(ctx);
        return;
      }
      throw notImplemented(method);
    }
    if (rest[0] === 'files') {
      const owner = rest[1];
      if (owner === undefined) throw notImplemented(method);
      if (owner !== user) {
        if (!Object.prototype.hasOwnProperty.call(this.users, owner)) {
          throw notFound(`Principal with name ${owner} not found`);
        }
        // Another user's tree is an empty SimpleCollection for this user (404, not 403).
        throw notFound(`File not found: ${rest[2] ?? owner} in '${rest[2] === undefined ? 'files' : owner}'`);
      }
      await this.files(ctx, { legacy: false, user }, rest.slice(2));
      return;
    }
    if (rest[0] === 'uploads') {
      const owner = rest[1];
      if (owner === undefined || owner !== user) throw notFound(`Principal with name ${owner ?? ''} not found`);
      await this.uploadsRoute(ctx, rest.slice(2));
      return;
    }
    throw notFound(`File not found: ${rest[0] ?? ''} in 'root'`);
  }

  private hrefBase(ep: Endpoint): string {
    return ep.legacy ? '/remote.php/webdav' : `/remote.php/dav/files/${sabreEncodePath(ep.user)}`;
  }

  private href(ep: Endpoint, segs: readonly string[], folder: boolean): string {
    if (segs.length === 0) return this.hrefBase(ep) + '/';
    return `${this.hrefBase(ep)}/${sabreEncodePath(segs.join('/'))}${folder ? '/' : ''}`;
  }

  private davHeader(ep: Endpoint, req: IncomingMessage): string {
    const ms = isFakeLockerUa(req);
    if (ep.legacy) return ms ? DAV_HEADER_LEGACY_MS : DAV_HEADER_LEGACY;
    return ms ? DAV_HEADER_FILES_MS : DAV_HEADER_FILES;
  }

  private async files(ctx: Ctx, ep: Endpoint, segs: string[]): Promise<void> {
    const node = await this.checkPreconditions(ctx, ep, segs);
    if (node === 'handled') return;
    switch (ctx.method) {
      case 'PROPFIND':
        return this.propfind(ctx, ep, segs);
      case 'GET':
        return this.get(ctx, segs, false);
      case 'HEAD':
        return this.get(ctx, segs, true);
      case 'PUT':
        return this.put(ctx, segs);
      case 'MKCOL':
        return this.mkcol(ctx, ep, segs);
      case 'DELETE':
        return this.delete(ctx, segs);
      case 'MOVE':
        return this.moveOrCopy(ctx, ep, segs, 'MOVE');
      case 'COPY':
        return this.moveOrCopy(ctx, ep, segs, 'COPY');
      case 'OPTIONS':
        return this.options(ctx, ep, segs);
      case 'LOCK':
        return this.lock(ctx, ep, segs);
      case 'UNLOCK':
        if (!isFakeLockerUa(ctx.req)) throw notImplemented('UNLOCK');
        send(ctx.res, 204, [['Content-Length', '0'], ['Content-type', TEXT_HTML]]);
        return;
      default:
        throw notImplemented(ctx.method);
    }
  }

  /** Sabre's Server::checkPreconditions (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since). */
  private async checkPreconditions(ctx: Ctx, ep: Endpoint, segs: string[]): Promise<'ok' | 'handled'> {
    const { req, res, method } = ctx;
    const ifMatch = header(req, 'If-Match');
    if (ifMatch) {
      const node = this.tryResolve(ep.user, segs);
      if (!node) throw preconditionFailed('An If-Match header was specified and the resource did not exist', 'If-Match');
      if (ifMatch !== '*') {
        const etag = node.kind === 'file' ? `"${node.etag}"` : null;
        const match = ifMatch
          .split(',')
          .map((s) => s.trim())
          .some((item) => item === etag || item.replace(/\\"/g, '"') === etag);
        if (!match) {
          throw preconditionFailed(
            'An If-Match header was specified, but none of the specified ETags matched.',
            'If-Match',
            etag ? [['ETag', etag]] : [],
          );
        }
      }
    }
    const ifNoneMatch = header(req, 'If-None-Match');
    if (ifNoneMatch) {
      const node = this.tryResolve(ep.user, segs);
      if (node) {
        const etag = node.kind === 'file' ? `"${node.etag}"` : null;
        const match =
          ifNoneMatch === '*' ||
          ifNoneMatch
            .split(',')
            .map((s) => s.trim())
            .some((item) => item === etag);
        if (match) {
          const headers: Array<[string, string]> = ifNoneMatch !== '*' && etag ? [['ETag', etag]] : [];
          if (method === 'GET' || method === 'HEAD') {
            send(res, 304, headers);
            return 'handled';
          }
          throw preconditionFailed(
            'An If-None-Match header was specified, but the ETag matched (or * was specified).',
            'If-None-Match',
            headers,
          );
        }
      }
    }
    const ifModifiedSince = header(req, 'If-Modified-Since');
    if (!ifNoneMatch && ifModifiedSince && (method === 'GET' || method === 'HEAD')) {
      const date = Date.parse(ifModifiedSince);
      const node = Number.isNaN(date) ? null : this.tryResolve(ep.user, segs);
      if (node && node.mtime * 1000 <= date) {
        send(res, 304, [['Last-Modified', httpDate(node.mtime)]]);
        return 'handled';
      }
    }
    const ifUnmodifiedSince = header(req, 'If-Unmodified-Since');
    if (ifUnmodifiedSince) {
      const date = Date.parse(ifUnmodifiedSince);
      const node = Number.isNaN(date) ? null : this.tryResolve(ep.user, segs);
      if (node && node.mtime * 1000 > date) {
        throw preconditionFailed(
          'An If-Unmodified-Since header was specified, but the entity has been changed since the specified date.',
          'If-Unmodified-Since',
        );
      }
    }
    return 'ok';
  }

  // -- PROPFIND --------------------------------------------------------------------------------------------------

  private async parsePropfindBody(body: Buffer): Promise<PropRequest> {
    const text = body.toString('utf8');
    if (text.trim() === '') return { mode: 'allprop' };
    const root = await parseXml(text);
    if (root.ns !== NS_DAV || root.local !== 'propfind') {
      throw badRequest('The root element of the request body must be {DAV:}propfind');
    }
    if (child(root, NS_DAV, 'allprop')) return { mode: 'allprop' };
    if (child(root, NS_DAV, 'propname')) return { mode: 'propname' };
    const prop = child(root, NS_DAV, 'prop');
    if (!prop) return { mode: 'allprop' };
    const props: string[] = [];
    for (const c of prop.children) {
      const name = clark(c.ns, c.local);
      if (!props.includes(name)) props.push(name);
    }
    return { mode: 'prop', props };
  }

  /** Inner XML of a property, or `undefined` when the node does not have it (→ 404 propstat). */
  private propValue(node: TreeNode, user: string, name: string): string | undefined {
    const isFile = node.kind === 'file';
    switch (name) {
      case P.getetag:
        return escapeText(`"${node.etag}"`);
      case P.getcontentlength:
        return isFile ? String(node.data.length) : undefined;
      case P.getlastmodified:
        return httpDate(node.mtime);
      case P.resourcetype:
        return isFile ? '' : '<d:collection/>';
      case P.getcontenttype:
        return isFile ? escapeText(mimeOf(node.name)) : undefined;
      case P.displayname:
        return escapeText(node.parent ? node.name : user);
      case P.quotaUsed:
        return isFile ? undefined : String(nodeSize(node));
      case P.quotaAvailable:
        return isFile ? undefined : '-3';
      case P.fileid:
        return String(node.fileId);
      case P.id:
        return ocId(node.fileId);
      case P.permissions:
        return isFile ? 'RGDNVW' : 'RGDNVCK';
      case P.size:
        return String(nodeSize(node));
      case P.checksums:
        return isFile && node.checksum ? `<oc:checksum>${escapeText(node.checksum)}</oc:checksum>` : undefined;
      case P.ownerId:
        return escapeText(user);
      case P.ownerDisplayName:
        return escapeText(user.charAt(0).toUpperCase() + user.slice(1));
      case P.favorite:
        return '0';
      case P.hasPreview:
        return hasPreview(node) ? 'true' : 'false';
      case P.uploadTime:
        return String(node.uploadTime);
      case P.creationTime:
        return '0';
      case P.shareAttributes:
        return '[]';
      default:
        return undefined;
    }
  }

  private responseXml(
    namer: ElementNamer,
    href: string,
    node: TreeNode,
    user: string,
    request: PropRequest,
    minimal: boolean,
  ): string {
    const found: string[] = [];
    const missing: string[] = [];
    if (request.mode === 'prop') {
      for (const name of request.props) {
        const value = this.propValue(node, user, name);
        if (value === undefined) missing.push(namer.element(name, ''));
        else found.push(namer.element(name, value));
      }
    } else {
      for (const name of ALLPROP) {
        const value = this.propValue(node, user, name);
        if (value !== undefined) found.push(namer.element(name, request.mode === 'propname' ? '' : value));
      }
    }
    let xml = `<d:response><d:href>${escapeText(href)}</d:href>`;
    if (found.length > 0) {
      xml += `<d:propstat><d:prop>${found.join('')}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>`;
    }
    if (missing.length > 0 && !minimal) {
      xml += `<d:propstat><d:prop>${missing.join('')}</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>`;
    }
    return xml + '</d:response>';
  }

  private async propfind(ctx: Ctx, ep: Endpoint, segs: string[]): Promise<void> {
    const davHeaders: Array<[string, string]> = [
      ['Vary', 'Brief,Prefer'],
      ['DAV', this.davHeader(ep, ctx.req)],
    ];
    let node: TreeNode;
    try {
      node = this.resolve(ep.user, segs);
    } catch (e) {
      if (e instanceof DavError) {
        throw new DavError(e.status, e.exception, e.message, { ...e.extra, trailingHeaders: davHeaders });
      }
      throw e;
    }
    const request = await this.parsePropfindBody(ctx.body);
    const depthHeader = (header(ctx.req, 'Depth') ?? '1').trim().toLowerCase();
    const depth = depthHeader === '0' ? 0 : depthHeader === 'infinity' ? Infinity : 1;
    const prefer = header(ctx.req, 'Prefer') ?? '';
    const minimal = (header(ctx.req, 'Brief') ?? '').toLowerCase() === 't' || /return=minimal/i.test(prefer);

    const namer = new ElementNamer();
    let xml = MULTISTATUS_OPEN;
    const walk = (n: TreeNode, nSegs: string[], remaining: number): void => {
      xml += this.responseXml(namer, this.href(ep, nSegs, n.kind === 'folder'), n, ep.user, request, minimal);
      if (n.kind === 'folder' && remaining > 0) {
        for (const c of sortedChildren(n)) walk(c, [...nSegs, c.name], remaining - 1);
      }
    };
    walk(node, segs, depth);
    xml += MULTISTATUS_CLOSE;
    send(ctx.res, 207, [['Content-Type', XML_UTF8], ...davHeaders], xml);
  }

  // -- GET / HEAD ------------------------------------------------------------------------------------------------

  private async get(ctx: Ctx, segs: string[], head: boolean): Promise<void> {
    const { req, res } = ctx;
    const node = this.resolve(ctx.user, segs);
    if (node.kind !== 'file') {
      if (head) {
        send(res, 200, [['Content-Length', '0'], ['Content-type', TEXT_HTML]]);
        return;
      }
      throw notImplemented('GET', ' Enable the Browser plugin to get a better result here.');
    }
    const size = node.data.length;
    let start = 0;
    let end = size - 1;
    let partial = false;
    const range = header(req, 'Range');
    const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
    if (m && (m[1] !== '' || m[2] !== '')) {
      const first = m[1] ?? '';
      const last = m[2] ?? '';
      if (first === '') {
        start = Math.max(0, size - Number(last));
      } else {
        start = Number(first);
        if (start >= size) {
          throw new DavError(
            416,
            'Sabre\\DAV\\Exception\\RequestedRangeNotSatisfiable',
            `The start offset (${start}) exceeded the size of the entity (${size})`,
          );
        }
        if (last !== '') {
          if (Number(last) < start) {
            throw new DavError(
              416,
              'Sabre\\DAV\\Exception\\RequestedRangeNotSatisfiable',
              `The end offset (${last}) is lower than the start offset (${start})`,
            );
          }
          end = Math.min(Number(last), size - 1);
        }
      }
      partial = true;
    }
    const quoted = `"${node.etag}"`;
    const content = partial ? node.data.subarray(start, end + 1) : node.data;
    const headers: Array<[string, string]> = [
      ['Content-Type', mimeOf(node.name)],
      ['Last-Modified', httpDate(node.mtime)],
      ['ETag', quoted],
      ['Content-Length', String(content.length)],
    ];
    if (partial) headers.push(['Content-Range', `bytes ${start}-${end}/${size}`]);
    const encodedName = rawUrlEncode(node.name);
    headers.push(
      ['OC-ETag', quoted],
      ['Content-Disposition', `attachment; filename*=UTF-8''${encodedName}; filename="${encodedName}"`],
      ['X-Accel-Buffering', 'no'],
    );
    if (head) {
      headers.push(['X-Accel-Buffering', 'no']);
      send(res, 200, headers);
      return;
    }
    // Shared lock for as long as the download streams.
    const fileId = node.fileId;
    this.readers.set(fileId, (this.readers.get(fileId) ?? 0) + 1);
    let unlocked = false;
    const unlock = (): void => {
      if (unlocked) return;
      unlocked = true;
      const left = (this.readers.get(fileId) ?? 1) - 1;
      if (left > 0) this.readers.set(fileId, left);
      else this.readers.delete(fileId);
    };
    res.once('finish', unlock);
    res.once('close', unlock);
    const flat: string[] = [];
    for (const [k, v] of headers) flat.push(k, v);
    res.writeHead(partial ? 206 : 200, REASONS[partial ? 206 : 200] ?? '', flat);
    if (!this.holding) {
      res.end(content);
      return;
    }
    const half = Math.floor(content.length / 2);
    if (half > 0) res.write(content.subarray(0, half));
    else res.flushHeaders();
    this.held.push(() => {
      if (!res.destroyed && !res.writableEnded) res.end(content.subarray(half));
    });
    const waiters = this.heldWaiters.splice(0);
    for (const w of waiters) w();
  }

  // -- PUT -------------------------------------------------------------------------------------------------------

  private mtimeFromHeader(req: IncomingMessage): number | undefined {
    const raw = header(req, 'X-OC-Mtime');
    if (raw === undefined) return undefined;
    if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) {
      throw badRequest('X-OC-MTime header must be an integer (unix timestamp).');
    }
    return Math.floor(Number(raw.trim()));
  }

  private async put(ctx: Ctx, segs: string[]): Promise<void> {
    const { req, res, body, user } = ctx;
    const name = segs[segs.length - 1];
    if (name === undefined) throw conflict('PUT is not allowed on non-files.');
    const existing = this.tryResolve(user, segs);
    let parent: FolderNode;
    if (existing) {
      if (existing.kind !== 'file') throw conflict('PUT is not allowed on non-files.');
      parent = existing.parent as FolderNode;
    } else {
      parent = this.resolveFolder(user, segs.slice(0, -1), () =>
        conflict('Files can only be created as children of collections'),
      );
      checkName(name);
    }
    const expected = header(req, 'X-Expected-Entity-Length') ?? (header(req, 'Transfer-Encoding') ? undefined : header(req, 'Content-Length'));
    if (expected !== undefined && Number(expected) !== body.length) {
      throw badRequest(
        `Expected filesize of ${expected} bytes but read (from Nextcloud client) and wrote (to Nextcloud storage) ${body.length} bytes. Could either be a network problem on the sending side or a problem writing to the storage on the server side.`,
      );
    }
    const mtime = this.mtimeFromHeader(req);
    const checksum = header(req, 'OC-Checksum')?.trim();
    this.assertNotLocked(existing);
    const { node, created } = this.writeFile(parent, name, Buffer.from(body), {
      ...(mtime !== undefined ? { mtime } : {}),
      ...(checksum ? { checksum } : {}),
    });
    const quoted = `"${node.etag}"`;
    const headers: Array<[string, string]> = [];
    if (mtime !== undefined) headers.push(['X-OC-MTime', 'accepted']);
    headers.push(
      ['OC-FileId', ocId(node.fileId)],
      ['Content-Length', '0'],
      ['ETag', quoted],
      ['OC-ETag', quoted],
      ['Content-type', TEXT_HTML],
    );
    send(res, created ? 201 : 204, headers);
  }

  // -- MKCOL / DELETE --------------------------------------------------------------------------------------------

  private allowedMethods(ep: Endpoint, segs: string[], req: IncomingMessage): string {
    const methods = ['OPTIONS', 'GET', 'HEAD', 'DELETE', 'PROPFIND', 'PUT', 'PROPPATCH', 'COPY', 'MOVE'];
    let exists = true;
    try {
      exists = this.tryResolve(ep.user, segs) !== null;
    } catch {
      exists = false;
    }
    if (!exists) methods.push('MKCOL');
    methods.push('REPORT');
    if (isFakeLockerUa(req)) methods.push('LOCK', 'UNLOCK');
    return methods.join(', ');
  }

  private async mkcol(ctx: Ctx, ep: Endpoint, segs: string[]): Promise<void> {
    const { user, res } = ctx;
    if (ctx.body.length > 0) {
      throw new DavError(
        415,
        'Sabre\\DAV\\Exception\\UnsupportedMediaType',
        'The request body for the MKCOL request must have an xml Content-Type',
      );
    }
    const name = segs[segs.length - 1];
    let parent: FolderNode;
    try {
      parent = this.resolveFolder(user, segs.slice(0, -1), () =>
        conflict('You can only create sub-nodes in collections'),
      );
    } catch (e) {
      if (e instanceof DavError && e.status === 404) throw conflict('Parent node does not exist');
      throw e;
    }
    if (name === undefined || this.tryResolve(user, segs)) {
      throw new DavError(405, 'Sabre\\DAV\\Exception\\MethodNotAllowed', 'The resource you tried to create already exists', {
        headers: [['Allow', this.allowedMethods(ep, segs, ctx.req)]],
      });
    }
    checkName(name);
    const folder = this.newFolder(name, parent);
    parent.children.set(name, folder);
    this.propagate(parent);
    send(res, 201, [
      ['OC-FileId', ocId(folder.fileId)],
      ['Content-Length', '0'],
      ['Content-type', TEXT_HTML],
    ]);
  }

  private async delete(ctx: Ctx, segs: string[]): Promise<void> {
    const node = this.resolve(ctx.user, segs);
    if (!node.parent) throw forbidden('Permission denied to delete home folder');
    this.assertNotLocked(node);
    this.detach(node);
    send(ctx.res, 204, [['Content-Length', '0'], ['Content-type', TEXT_HTML]]);
  }

  // -- MOVE / COPY -----------------------------------------------------------------------------------------------

  /** Parses the Destination header into the destination's segments within the same user's tree. */
  private destinationSegments(ctx: Ctx, ep: Endpoint): string[] {
    const dest = header(ctx.req, 'Destination');
    if (!dest) throw badRequest('The destination header was not supplied');
    let rawPath: string;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) {
      const afterScheme = dest.slice(dest.indexOf('//') + 2);
      const slash = afterScheme.indexOf('/');
      rawPath = slash < 0 ? '/' : afterScheme.slice(slash);
    } else {
      rawPath = dest;
    }
    rawPath = rawPath.split('?')[0] ?? '/';
    const segs = decodeSegments(rawPath);
    const base = ep.legacy ? ['remote.php', 'webdav'] : ['remote.php', 'dav'];
    if (segs.length < base.length || base.some((b, i) => segs[i] !== b)) {
      throw forbidden(`Requested uri (${rawPath}) is out of base uri (/${base.join('/')}/)`);
    }
    const rest = segs.slice(base.length);
    if (ep.legacy) return rest;
    if (rest[0] !== 'files' || rest[1] !== ep.user) throw conflict('The destination node is not found');
    return rest.slice(2);
  }

  private async moveOrCopy(ctx: Ctx, ep: Endpoint, segs: string[], method: 'MOVE' | 'COPY'): Promise<void> {
    const { req, res, user } = ctx;
    const destSegs = this.destinationSegments(ctx, ep);
    const overwriteRaw = (header(req, 'Overwrite') ?? 'T').toUpperCase();
    if (overwriteRaw !== 'T' && overwriteRaw !== 'F') throw badRequest('The HTTP Overwrite header should be either T or F');
    const overwrite = overwriteRaw === 'T';
    const destName = destSegs[destSegs.length - 1];
    if (destName === undefined) throw forbidden('Permission denied to rename the home folder');
    let destParent: FolderNode;
    try {
      destParent = this.resolveFolder(user, destSegs.slice(0, -1), () =>
        new DavError(415, 'Sabre\\DAV\\Exception\\UnsupportedMediaType', 'The destination node is not a collection'),
      );
    } catch (e) {
      if (e instanceof DavError && e.status === 404) throw conflict('The destination node is not found');
      throw e;
    }
    const destExisting = this.tryResolve(user, destSegs);
    if (destExisting && !overwrite) {
      throw preconditionFailed('The destination node already exists, and the overwrite header is set to false', 'Overwrite');
    }
    if (destSegs.join('/') === segs.join('/')) throw forbidden('Source and destination uri are identical.');
    if (destSegs.length > segs.length && segs.every((s, i) => destSegs[i] === s)) {
      throw conflict('The destination may not be part of the same subtree as the source path.');
    }
    const source = this.resolve(user, segs);
    if (!source.parent) throw forbidden('Permission denied to rename the home folder');
    checkName(destName);
    this.assertNotLocked(destExisting);
    if (method === 'MOVE') this.assertNotLocked(source);

    if (destExisting) this.detach(destExisting);
    let result: TreeNode;
    if (method === 'MOVE') {
      const oldParent = source.parent;
      oldParent.children.delete(source.name);
      this.propagate(oldParent);
      source.name = destName;
      source.parent = destParent;
      destParent.children.set(destName, source);
      this.propagate(destParent);
      result = source;
    } else {
      result = this.copyTree(source, destName, destParent);
      destParent.children.set(destName, result);
      this.propagate(destParent);
    }
    const status = destExisting ? 204 : 201;
    if (method === 'COPY') {
      send(res, status, [
        ['OC-FileId', ocId(result.fileId)],
        ['Content-Length', '0'],
        ['Content-type', TEXT_HTML],
      ]);
      return;
    }
    const quoted = `"${result.etag}"`;
    send(res, status, [
      ['OC-ETag', quoted],
      ['ETag', quoted],
      ['OC-FileId', ocId(result.fileId)],
      ['Content-Length', '0'],
      ['Content-type', TEXT_HTML],
    ]);
  }

  // -- OPTIONS / LOCK --------------------------------------------------------------------------------------------

  private async options(ctx: Ctx, ep: Endpoint, segs: string[]): Promise<void> {
    send(ctx.res, 200, [
      ['Allow', this.allowedMethods(ep, segs, ctx.req)],
      ['DAV', this.davHeader(ep, ctx.req)],
      ['MS-Author-Via', 'DAV'],
      ['Accept-Ranges', 'bytes'],
      ['Content-Length', '0'],
      ['Content-type', TEXT_HTML],
    ]);
  }

  private async lock(ctx: Ctx, ep: Endpoint, segs: string[]): Promise<void> {
    if (!isFakeLockerUa(ctx.req)) throw notImplemented('LOCK');
    // Nextcloud's FakeLockerPlugin: a made-up lock, nothing is enforced.
    const root = (ep.legacy ? '' : `files/${ep.user}/`) + segs.join('/');
    const timeout = header(ctx.req, 'Timeout') ?? 'Second-1800';
    const body =
      '<?xml version="1.0"?>\n' +
      '<d:prop xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">\n' +
      ' <d:lockdiscovery>\n' +
      '  <d:activelock>\n' +
      '   <d:lockscope>\n    <d:exclusive/>\n   </d:lockscope>\n' +
      '   <d:locktype>\n    <d:write/>\n   </d:locktype>\n' +
      `   <d:lockroot>\n    <d:href>${escapeText(sabreEncodePath(root))}</d:href>\n   </d:lockroot>\n` +
      '   <d:depth>infinity</d:depth>\n' +
      `   <d:timeout>${escapeText(timeout)}</d:timeout>\n` +
      `   <d:locktoken>\n    <d:href>opaquelocktoken:${randomBytes(16).toString('hex')}</d:href>\n   </d:locktoken>\n` +
      '  </d:activelock>\n' +
      ' </d:lockdiscovery>\n' +
      '</d:prop>\n';
    send(ctx.res, 200, [['Content-type', TEXT_HTML]], body);
  }

  // -- SEARCH ----------------------------------------------------------------------------------------------------

  private async search(ctx: Ctx): Promise<void> {
    const root = await parseXml(ctx.body.toString('utf8'));
    const basic = root.local === 'searchrequest' ? child(root, NS_DAV, 'basicsearch') : undefined;
    if (!basic) throw badRequest('Unexpected xml body, expected a d:searchrequest with a d:basicsearch');
    const select = child(basic, NS_DAV, 'select');
    const selectProp = select ? child(select, NS_DAV, 'prop') : undefined;
    const props = (selectProp?.children ?? []).map((c) => clark(c.ns, c.local));
    const from = child(basic, NS_DAV, 'from');
    const scope = from ? child(from, NS_DAV, 'scope') : undefined;
    const scopeHref = scope ? (child(scope, NS_DAV, 'href')?.text ?? '').trim() : '';
    const depthText = scope ? (child(scope, NS_DAV, 'depth')?.text ?? 'infinity').trim().toLowerCase() : 'infinity';
    const scopeSegs = decodeSegments(scopeHref.replace(/^\/remote\.php\/dav(?=\/|$)/, ''));
    if (scopeSegs[0] !== 'files' || scopeSegs[1] !== ctx.user) throw badRequest('Invalid search scope');
    const base = this.resolve(ctx.user, scopeSegs.slice(2));
    const whereEl = child(basic, NS_DAV, 'where');
    const expr = whereEl?.children[0];
    const limitEl = child(basic, NS_DAV, 'limit');
    const nresults = limitEl ? Number((child(limitEl, NS_DAV, 'nresults')?.text ?? '').trim()) : NaN;

    const matches: TreeNode[] = [];
    const maxDepth = depthText === 'infinity' ? Infinity : Number(depthText) || 1;
    const walk = (n: TreeNode, d: number): void => {
      if (n.kind !== 'folder' || d >= maxDepth) return;
      for (const c of sortedChildren(n)) {
        if (!expr || this.evalWhere(c, ctx.user, expr)) matches.push(c);
        walk(c, d + 1);
      }
    };
    walk(base, 0);
    const orderEls = (child(basic, NS_DAV, 'orderby')?.children ?? []).filter((c) => c.local === 'order');
    for (const order of [...orderEls].reverse()) {
      const p = child(order, NS_DAV, 'prop')?.children[0];
      if (!p) continue;
      const name = clark(p.ns, p.local);
      const desc = Boolean(child(order, NS_DAV, 'descending'));
      matches.sort((a, b) => {
        const va = this.comparable(a, ctx.user, name);
        const vb = this.comparable(b, ctx.user, name);
        const cmp = va === vb ? 0 : va === undefined ? -1 : vb === undefined ? 1 : va < vb ? -1 : 1;
        return desc ? -cmp : cmp;
      });
    }
    const limited = Number.isFinite(nresults) && nresults > 0 ? matches.slice(0, nresults) : matches;
    const namer = new ElementNamer();
    const ep: Endpoint = { legacy: false, user: ctx.user };
    let xml = MULTISTATUS_OPEN;
    for (const n of limited) {
      xml += this.responseXml(namer, this.href(ep, nodeSegments(n), n.kind === 'folder'), n, ctx.user, { mode: 'prop', props }, false);
    }
    xml += MULTISTATUS_CLOSE;
    send(ctx.res, 207, [['Content-Type', 'application/xml; charset="utf-8"']], xml);
  }

  private comparable(node: TreeNode, user: string, name: string): string | number | undefined {
    switch (name) {
      case P.fileid:
        return node.fileId;
      case P.displayname:
        return node.name;
      case P.getcontenttype:
        return node.kind === 'file' ? mimeOf(node.name) : 'httpd/unix-directory';
      case P.getcontentlength:
      case P.size:
        return nodeSize(node);
      case P.getlastmodified:
        return node.mtime;
      case P.ownerId:
        return user;
      default:
        return undefined;
    }
  }

  private evalWhere(node: TreeNode, user: string, el: XmlEl): boolean {
    switch (el.local) {
      case 'and':
        return el.children.every((c) => this.evalWhere(node, user, c));
      case 'or':
        return el.children.some((c) => this.evalWhere(node, user, c));
      case 'not': {
        const inner = el.children[0];
        return inner ? !this.evalWhere(node, user, inner) : true;
      }
      case 'is-collection':
        return node.kind === 'folder';
      case 'eq':
      case 'like':
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const p = child(el, NS_DAV, 'prop')?.children[0];
        const literal = (child(el, NS_DAV, 'literal')?.text ?? '').trim();
        if (!p) return false;
        const name = clark(p.ns, p.local);
        const actual = this.comparable(node, user, name);
        if (actual === undefined) return false;
        if (el.local === 'like') {
          const pattern = literal
            .split('')
            .map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('');
          return new RegExp(`^${pattern}$`, 'is').test(String(actual));
        }
        let expected: string | number = literal;
        if (typeof actual === 'number') {
          expected = name === P.getlastmodified && !/^\d+$/.test(literal) ? Date.parse(literal) / 1000 : Number(literal);
        }
        switch (el.local) {
          case 'eq':
            return actual === expected;
          case 'gt':
            return actual > expected;
          case 'gte':
            return actual >= expected;
          case 'lt':
            return actual < expected;
          default:
            return actual <= expected;
        }
      }
      default:
        return false;
    }
  }

  // -- chunked upload v2 -----------------------------------------------------------------------------------------

  private async uploadsRoute(ctx: Ctx, segs: string[]): Promise<void> {
    const { method, res, req, user } = ctx;
    const id = segs[0];
    if (id === undefined) throw notImplemented(method);
    const key = `${user}/${id}`;
    const session = this.uploads.get(key);
    if (segs.length === 1) {
      if (method === 'MKCOL') {
        if (session) {
          throw new DavError(405, 'Sabre\\DAV\\Exception\\MethodNotAllowed', 'The resource you tried to create already exists');
        }
        this.uploads.set(key, { chunks: new Map() });
        send(res, 201, [['Content-Length', '0'], ['Content-type', TEXT_HTML]]);
        return;
      }
      if (!session) throw notFound(`File with name ${id} could not be located`);
      if (method === 'DELETE') {
        this.uploads.delete(key);
        send(res, 204, [['Content-Length', '0'], ['Content-type', TEXT_HTML]]);
        return;
      }
      throw notImplemented(method);
    }
    const chunkName = segs[1] ?? '';
    if (!session) throw notFound(`File with name ${id} could not be located`);
    if (method === 'PUT' && segs.length === 2) {
      const existed = session.chunks.has(chunkName);
      session.chunks.set(chunkName, Buffer.from(ctx.body));
      send(res, existed ? 204 : 201, [['Content-Length', '0'], ['Content-type', TEXT_HTML]]);
      return;
    }
    if (method === 'MOVE' && segs.length === 2 && chunkName === '.file') {
      const ep: Endpoint = { legacy: false, user };
      const destSegs = this.destinationSegments(ctx, ep);
      const destName = destSegs[destSegs.length - 1];
      if (destName === undefined) throw forbidden('Permission denied');
      let destParent: FolderNode;
      try {
        destParent = this.resolveFolder(user, destSegs.slice(0, -1), () => conflict('The destination node is not a collection'));
      } catch (e) {
        if (e instanceof DavError && e.status === 404) throw conflict('The destination node is not found');
        throw e;
      }
      checkName(destName);
      const names = [...session.chunks.keys()].sort((a, b) =>
        /^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0,
      );
      const data = Buffer.concat(names.map((n) => session.chunks.get(n) ?? Buffer.alloc(0)));
      const total = header(req, 'OC-Total-Length');
      if (total !== undefined && Number(total) !== data.length) {
        throw badRequest(`Chunks on server do not sum up to ${total} but to ${data.length} bytes`);
      }
      const destExisting = this.tryResolve(user, destSegs);
      if (destExisting && destExisting.kind !== 'file') throw conflict('PUT is not allowed on non-files.');
      this.assertNotLocked(destExisting);
      const mtime = this.mtimeFromHeader(req);
      const { node, created } = this.writeFile(destParent, destName, data, mtime !== undefined ? { mtime } : {});
      this.uploads.delete(key);
      const quoted = `"${node.etag}"`;
      const headers: Array<[string, string]> = [];
      if (mtime !== undefined) headers.push(['X-OC-MTime', 'accepted']);
      headers.push(
        ['OC-ETag', quoted],
        ['ETag', quoted],
        ['OC-FileId', ocId(node.fileId)],
        ['Content-Length', '0'],
        ['Content-type', TEXT_HTML],
      );
      send(res, created ? 201 : 204, headers);
      return;
    }
    throw notImplemented(method);
  }
}

/**
 * Starts a Nextcloud 32 WebDAV test double on 127.0.0.1 (ephemeral port) with an empty home folder per user.
 *
 * @param opts - optional user table (login name → password).
 * @returns the running double; call {@link NextcloudDouble.close} when done.
 */
export async function startNextcloudDouble(opts: NextcloudDoubleOptions = {}): Promise<NextcloudDouble> {
  const users = opts.users ?? { alice: 'alice-pass-123', admin: 'admin-pass-123' };
  const server = new DoubleServer(users);
  await server.listen();
  const origin = server.origin;
  return {
    origin,
    davUrl: (user: string) => `${origin}/remote.php/dav/files/${encodeURIComponent(user)}`,
    requests: server.requests,
    holdDownloads: (on: boolean) => server.holdDownloads(on),
    releaseDownloads: () => server.releaseDownloads(),
    downloadHeld: () => server.downloadHeld(),
    putFileDirect: (user: string, path: string, bytes: Buffer) => server.putFileDirect(user, path, bytes),
    mkdirDirect: (user: string, path: string) => server.mkdirDirect(user, path),
    readFileDirect: (user: string, path: string) => server.readFileDirect(user, path),
    fileIdOf: (user: string, path: string) => server.fileIdOf(user, path),
    etagOf: (user: string, path: string) => server.etagOf(user, path),
    close: () => server.close(),
  };
}
