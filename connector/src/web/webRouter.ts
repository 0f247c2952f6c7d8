/**
 * The pages people use (issue 4): the file list of their drive (`/`), the host page that opens a document in
 * DocumentServer (`/open/<id>`), new documents, rename, delete, and sign-in / sign-out. Server-rendered HTML; every
 * POST is same-origin and (once signed in) carries the session's CSRF token; errors are pages, never a blank frame.
 */
import type { Context, Middleware, Next } from 'koa';
import { Router } from '@koa/router';
import type { Config } from '../config/config.js';
import type { DiscoveryClient } from '../discovery/DiscoveryClient.js';
import { isDiscoveryError } from '../discovery/DiscoveryError.js';
import type { Discovery } from '../discovery/parseDiscovery.js';
import { isWopiError } from '../errors/errors.js';
import { StorageError, joinPath, splitExtension, splitPath, type FileInfo } from '../storage/StorageAdapter.js';
import { issueAccessToken } from '../tokens/accessToken.js';
import { endSessionRefusedByDrive } from '../users/driveRefusedSession.js';
import { SignInError, USER_COOKIE, type UserDrive, type UserService, type UserSession } from '../users/types.js';
import { chooseAction, extensionOf, parseRequestedAction, type ActionChoice } from './chooseAction.js';
import { parseFileName, parseFolderPath, safeNext } from './drivePaths.js';
import { editorUrl, languageOf } from './editorUrl.js';
import { FormBodyError, readFormBody } from './readFormBody.js';
import { isOwnPageRequest, isTrustedPost, newNonce, readCookie, setCookie, setWebSecurityHeaders } from './webSecurity.js';
import { webAsset } from './webAssets.js';
import { renderMessagePage } from './pages/messagePage.js';
import { renderHostPage } from './pages/hostPage.js';
import { renderNextcloudWaitPage, renderSignInPage } from './pages/signInPage.js';
import { folderHref, NEW_DOCUMENT_TYPES, renderFileListPage, type ListEntry } from './pages/fileListPage.js';
import type { Locks } from '../locks/Locks.js';

/** What the pages need. */
export interface WebDeps {
  config: Config;
  users: UserService;
  /** DS discovery; null when no DocumentServer is configured. */
  discovery: DiscoveryClient | null;
  /** WOPI locks: a file open in an editor is not deleted from under it. */
  locks: Pick<Locks, 'get'>;
}

/** Cookie holding a pending Nextcloud login flow's id (HttpOnly, 20 minutes, only sent to /signin/nextcloud). */
export const NEXTCLOUD_FLOW_COOKIE = 'wopi_nc_flow';
const NEXTCLOUD_FLOW_SECONDS = 20 * 60;

/** Extensions linked to the host page while discovery cannot be read (DS formats people open most). */
const FALLBACK_OFFICE_EXTENSIONS = new Set(['docx', 'doc', 'odt', 'rtf', 'txt', 'xlsx', 'xls', 'ods', 'csv', 'pptx', 'ppt', 'odp', 'pdf']);

/** Whether a path is served by the pages. */
export function isWebPath(p: string): boolean {
  return p === '/' || p === '/signin' || p === '/signout' || p.startsWith('/signin/') || p.startsWith('/open/') || p.startsWith('/files/') || p.startsWith('/web/assets/');
}

interface WebState {
  reqId?: string;
  log?: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void };
  session?: UserSession;
  errorCode?: string;
  error?: unknown;
  op?: string;
  fileId?: string;
}

/** A page answer decided in the middle of a handler (bad input, missing DS…): written by the router's catch. */
class PageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    message: string,
    readonly extra: { detail?: string; link?: { href: string; label: string } } = {},
  ) {
    super(message);
    this.name = 'PageError';
  }
}

/**
 * Builds the pages' middleware (only paths of {@link isWebPath} are handled; others pass through).
 * @param deps configuration, the user service and DS discovery
 */
export function webRouter(deps: WebDeps): Middleware {
  const { config, users } = deps;
  const base = new URL(config.publicUrl).pathname.replace(/\/+$/, '');
  const secure = config.publicUrl.startsWith('https:');
  const docsPublic = config.docs.publicUrl ?? config.docs.internalUrl;
  const router = new Router();

  const state = (ctx: Context): WebState => ctx.state as WebState;
  const userOf = (s: UserSession): { name: string; csrfToken: string } => ({ name: s.userName, csrfToken: s.csrfToken });

  function sendHtml(ctx: Context, status: number, body: string, nonce?: string): void {
    setWebSecurityHeaders(ctx, docsPublic, nonce);
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body;
  }

  function redirect(ctx: Context, to: string): void {
    ctx.status = 303;
    ctx.set('Location', to);
    ctx.body = '';
  }

  function signInUrl(next: string, reason?: string): string {
    const q = new URLSearchParams();
    if (next !== '/' && next !== `${base}/`) q.set('next', next);
    if (reason) q.set('reason', reason);
    const s = q.toString();
    return `${base}/signin${s ? `?${s}` : ''}`;
  }

  function sessionCookie(ctx: Context, cookie: string, session: UserSession): void {
    setCookie(ctx, USER_COOKIE, cookie, { maxAgeSeconds: (session.expiresAt - Date.now()) / 1000, secure, path: '/' });
  }

  function clearSessionCookie(ctx: Context): void {
    setCookie(ctx, USER_COOKIE, '', { maxAgeSeconds: 0, secure, path: '/' });
  }

  /** The signed-in session, or null after answering with a redirect to the sign-in page. */
  async function requireSession(ctx: Context): Promise<UserSession | null> {
    const session = await users.sessionOfCookie(readCookie(ctx, USER_COOKIE));
    if (session === null) {
      redirect(ctx, signInUrl(safeNext(`${base}${ctx.url}`)));
      return null;
    }
    state(ctx).session = session;
    return session;
  }

  async function form(ctx: Context): Promise<Record<string, string>> {
    return readFormBody(ctx);
  }

  /** Reads the form of a signed-in POST; answers 403 (and returns null) when it is cross-site or lacks the CSRF token. */
  async function trustedForm(ctx: Context, session: UserSession | null): Promise<Record<string, string> | null> {
    const f = await form(ctx);
    if (!isTrustedPost(ctx, config.publicUrl, f, session === null ? null : session.csrfToken)) {
      state(ctx).errorCode = 'csrf_rejected';
      sendHtml(
        ctx,
        403,
        renderMessagePage({ base, title: 'Not allowed', message: 'This request did not come from this site’s own page. Go back, reload the page and try again.', link: { href: `${base}/`, label: 'Back to your files' } }),
      );
      return null;
    }
    return f;
  }

  async function discoverySnapshot(): Promise<Discovery> {
    if (deps.discovery === null) {
      throw new PageError(503, 'no_docs', 'Editing is not set up', 'No DocumentServer is configured for this site, so documents cannot be opened here.', {
        detail: 'Ask your administrator to set DOCS_URL.',
      });
    }
    try {
      return (await deps.discovery.get()).discovery;
    } catch (e) {
      throw discoveryPageError(e);
    }
  }

  function discoveryPageError(e: unknown): PageError {
    const status = (e as { status?: unknown }).status;
    let message = 'DocumentServer cannot be reached right now, so the document cannot be opened.';
    let code = 'docs_unreachable';
    if (status === 404) {
      message = 'DocumentServer answers, but its WOPI interface is turned off, so the document cannot be opened.';
      code = 'docs_wopi_disabled';
    } else if (status === 403) {
      message = 'DocumentServer refuses this site (its IP filter), so the document cannot be opened.';
      code = 'docs_forbidden';
    } else if (isDiscoveryError(e)) {
      message = 'DocumentServer’s answer is not a WOPI discovery document, so the document cannot be opened.';
      code = `docs_${e.code}`;
    } else if (typeof status === 'number') {
      message = `DocumentServer answered ${status}, so the document cannot be opened.`;
      code = 'docs_error';
    }
    return new PageError(503, code, 'The editor is not available', message, { detail: 'Try again later; if it persists, tell your administrator (the admin page’s checks say more).', link: { href: `${base}/`, label: 'Back to your files' } });
  }

  async function officeExtensions(): Promise<Set<string> | ReadonlyMap<string, unknown>> {
    if (deps.discovery === null) return new Set();
    try {
      return (await deps.discovery.get()).discovery.byExtension;
    } catch {
      return FALLBACK_OFFICE_EXTENSIONS;
    }
  }

  async function folderInfo(drive: UserDrive, folder: string): Promise<FileInfo> {
    let info: FileInfo;
    try {
      info = await drive.storage.stat(folder);
    } catch (e) {
      if (e instanceof StorageError && (e.kind === 'not_found' || e.kind === 'forbidden')) {
        throw new PageError(404, 'folder_not_found', 'Folder not found', 'There is no such folder in your drive.', { link: { href: `${base}/`, label: 'Back to your files' } });
      }
      throw e;
    }
    if (!info.isDirectory) throw new PageError(400, 'not_a_folder', 'Not a folder', 'That address names a file, not a folder.', { link: { href: folderHref(base, splitPath(folder).folder), label: 'Open its folder' } });
    return info;
  }

  function badPath(): PageError {
    return new PageError(400, 'bad_path', 'Bad folder address', 'The folder in this address is not a valid path.', { link: { href: `${base}/`, label: 'Back to your files' } });
  }

  // ----- static files

  router.get('/web/assets/:name', (ctx) => {
    const a = webAsset(ctx.params.name ?? '');
    if (!a) throw new PageError(404, 'not_found', 'Not found', 'There is nothing at this address.');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', a.etag);
    if (ctx.get('If-None-Match') === a.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = a.contentType;
    ctx.body = a.body;
  });

  // ----- file list

  router.get('/', async (ctx) => {
    const session = await requireSession(ctx);
    if (!session) return;
    const folder = parseFolderPath(ctx.query.path);
    if (folder === null) throw badPath();
    const drive = await users.driveOf(session);
    await folderInfo(drive, folder);
    const [items, office] = await Promise.all([drive.storage.list(folder), officeExtensions()]);
    const entries: ListEntry[] = await Promise.all(
      items.map(async (i): Promise<ListEntry> => {
        const id = i.isDirectory ? null : await drive.files.idFor(i);
        return {
          name: i.name,
          path: i.path,
          isDirectory: i.isDirectory,
          size: i.size,
          lastModified: i.lastModified,
          id,
          openable: !i.isDirectory && office.has(extensionOf(i.name)),
          canRename: i.permissions.canRename,
          canDelete: i.permissions.canDelete,
        };
      }),
    );
    sendHtml(ctx, 200, renderFileListPage({ base, folder, entries, user: userOf(session) }));
  });

  router.post('/files/new', async (ctx) => {
    const session = await requireSession(ctx);
    if (!session) return;
    const f = await trustedForm(ctx, session);
    if (!f) return;
    const folder = parseFolderPath(f.path);
    if (folder === null) throw badPath();
    const type = NEW_DOCUMENT_TYPES.find((t) => t.ext === f.type);
    if (!type) throw new PageError(400, 'bad_type', 'Unknown document type', 'Choose a document, a spreadsheet or a presentation.', { link: { href: folderHref(base, folder), label: 'Back' } });
    const typed = f.name === undefined || f.name.trim() === '' ? `New ${type.label.split(' ')[0]?.toLowerCase() ?? 'document'}` : parseFileName(f.name);
    if (typed === null) throw badName(folder);
    const name = typed.toLowerCase().endsWith(`.${type.ext}`) ? typed : `${typed}.${type.ext}`;
    const drive = await users.driveOf(session);
    await folderInfo(drive, folder);
    // A 0-byte file: DS sees Size 0 and fills it from its own template with a PutFile without lock (reference §1.3).
    const info = await drive.storage.createUnique(folder, name, null, 0);
    const id = await drive.files.idFor(info);
    state(ctx).fileId = id;
    redirect(ctx, `${base}/open/${encodeURIComponent(id)}?action=editnew`);
  });

  function badName(folder: string): PageError {
    return new PageError(400, 'bad_name', 'Name not allowed', 'A name must not be empty, start with a dot, or contain / or \\.', { link: { href: folderHref(base, folder), label: 'Back' } });
  }

  /**
   * The signed-in, same-site form POST about one file of the person's drive (field `id`), resolved; null when the
   * answer is already decided (a redirect to sign in, a refused form).
   */
  async function fileForm(ctx: Context): Promise<{ f: Record<string, string>; drive: UserDrive; id: string; info: FileInfo } | null> {
    const session = await requireSession(ctx);
    if (!session) return null;
    const f = await trustedForm(ctx, session);
    if (!f) return null;
    const drive = await users.driveOf(session);
    const id = f.id ?? '';
    state(ctx).fileId = id;
    return { f, drive, id, info: await drive.files.resolve(id) };
  }

  router.post('/files/rename', async (ctx) => {
    const target = await fileForm(ctx);
    if (!target) return;
    const { f, drive, id, info } = target;
    const { folder, name: oldName } = splitPath(info.path);
    let newName = parseFileName(f.name);
    if (newName === null) throw badName(folder);
    const [, oldExt] = splitExtension(oldName);
    // Typed without an extension: keep the old one, so the file still opens in the editor.
    if (splitExtension(newName)[1] === '' && oldExt !== '') newName = `${newName}${oldExt}`;
    if (newName !== oldName) {
      const to = joinPath(folder, newName);
      try {
        await drive.storage.rename(info.path, to);
      } catch (e) {
        if (e instanceof StorageError && e.kind === 'conflict') {
          throw new PageError(409, 'name_taken', 'Name already used', `There is already a file named “${newName}” in this folder.`, { link: { href: folderHref(base, folder), label: 'Back' } });
        }
        throw e;
      }
      await drive.files.moved(id, info.path, to);
    }
    redirect(ctx, folderHref(base, folder));
  });

  router.post('/files/delete', async (ctx) => {
    const target = await fileForm(ctx);
    if (!target) return;
    const { drive, id, info } = target;
    // DS never retries a failed save: deleting a file someone is editing would lose their work at the next save.
    if ((await deps.locks.get(id)) !== null) {
      throw new PageError(409, 'file_in_use', 'File is being edited', `“${info.name}” is open in the editor. Close it there first, then delete it.`, { link: { href: folderHref(base, splitPath(info.path).folder), label: 'Back' } });
    }
    await drive.storage.delete(info.path);
    await drive.files.forget(id, info.path);
    redirect(ctx, folderHref(base, splitPath(info.path).folder));
  });

  // ----- host page

  router.get('/open/:fileId', async (ctx) => {
    const session = await requireSession(ctx);
    if (!session) return;
    const fileId = ctx.params.fileId ?? '';
    state(ctx).fileId = fileId;
    const drive = await users.driveOf(session);
    const info = await drive.files.resolve(fileId);
    const back = { href: folderHref(base, splitPath(info.path).folder), label: 'Back to the folder' };
    const discovery = await discoverySnapshot();
    const choice: ActionChoice = chooseAction(discovery, info.name, info.permissions.canWrite, config.editableFormats, parseRequestedAction(ctx.query.action));
    if (choice.kind === 'unsupported') {
      state(ctx).errorCode = 'unsupported_type';
      sendHtml(
        ctx,
        415,
        renderMessagePage({
          base,
          title: 'Cannot open this file here',
          message: `“${info.name}” is a ${choice.ext === '' ? 'file without an extension' : `.${choice.ext} file`}, which the document editor cannot open.`,
          detail: 'Download it from your drive and open it with another program.',
          link: back,
          user: userOf(session),
        }),
      );
      return;
    }
    const url = editorUrl(choice.urlsrc, {
      publicUrl: config.publicUrl,
      fileId,
      language: languageOf(ctx.get('Accept-Language')),
      docsInternalUrl: config.docs.internalUrl,
      docsPublicUrl: config.docs.publicUrl,
    });
    const { token, accessTokenTtl, jti } = issueAccessToken(
      config.tokens.secret,
      { userId: session.userId, userName: session.userName, fileId, canWrite: choice.writable, sid: session.sid },
      config.tokens.ttlSeconds,
    );
    state(ctx).log?.info({ fileId, action: choice.action, jti, readOnly: choice.readOnlyReason }, 'host page');
    const nonce = newNonce();
    sendHtml(ctx, 200, renderHostPage({ base, title: info.name, actionUrl: url, accessToken: token, accessTokenTtl, nonce }), nonce);
  });

  // ----- sign-in

  const servicePassword = config.signIn.password !== null;

  function signInPage(ctx: Context, status: number, o: { next: string; error?: string | null; info?: string | null; username?: string }): void {
    sendHtml(ctx, status, renderSignInPage({ base, mode: users.mode, servicePassword, ...o }));
  }

  function signInFailure(ctx: Context, e: SignInError, next: string, username?: string): void {
    const status = { bad_credentials: 401, rate_limited: 429, drive_unreachable: 503, flow_expired: 400, wrong_mode: 400, bad_input: 400 }[e.reason];
    state(ctx).errorCode = `signin_${e.reason}`;
    signInPage(ctx, status, { next, error: e.message, ...(username !== undefined ? { username } : {}) });
    if (e.reason === 'rate_limited') ctx.set('Retry-After', String(Math.max(1, Math.ceil(e.retryAfterSeconds ?? 60))));
  }

  router.get('/signin', async (ctx) => {
    const next = safeNext(ctx.query.next);
    const session = await users.sessionOfCookie(readCookie(ctx, USER_COOKIE));
    if (session) {
      redirect(ctx, next === '/' ? `${base}/` : next);
      return;
    }
    const info = ctx.query.reason === 'signed_out' ? 'You are signed out.' : null;
    signInPage(ctx, 200, { next, info });
  });

  router.post('/signin', async (ctx) => {
    const f = await trustedForm(ctx, null);
    if (!f) return;
    const next = safeNext(f.next);
    const username = f.username ?? '';
    try {
      const { cookie, session } = await users.signIn({ username, password: f.password ?? '', ip: ctx.ip });
      sessionCookie(ctx, cookie, session);
      state(ctx).log?.info({ userId: session.userId, mode: users.mode }, 'signed in');
      redirect(ctx, next === '/' ? `${base}/` : next);
    } catch (e) {
      if (!(e instanceof SignInError)) throw e;
      signInFailure(ctx, e, next, username.slice(0, 200));
    }
  });

  router.post('/signin/nextcloud', async (ctx) => {
    const f = await trustedForm(ctx, null);
    if (!f) return;
    const next = safeNext(f.next);
    try {
      const { pendingId, loginUrl } = await users.startNextcloudLogin(ctx.ip);
      setCookie(ctx, NEXTCLOUD_FLOW_COOKIE, pendingId, { maxAgeSeconds: NEXTCLOUD_FLOW_SECONDS, secure, path: `${base}/signin/nextcloud`, sameSite: 'Strict' });
      sendHtml(ctx, 200, renderNextcloudWaitPage({ base, loginUrl, next: next === '/' ? `${base}/` : next }));
    } catch (e) {
      if (!(e instanceof SignInError)) throw e;
      signInFailure(ctx, e, next);
    }
  });

  router.post('/signin/nextcloud/poll', async (ctx) => {
    setWebSecurityHeaders(ctx, docsPublic);
    ctx.type = 'application/json; charset=utf-8';
    if (!isOwnPageRequest(ctx, config.publicUrl)) {
      ctx.status = 403;
      ctx.body = { status: 'error', message: 'Not allowed from another site.' };
      return;
    }
    const pendingId = readCookie(ctx, NEXTCLOUD_FLOW_COOKIE);
    if (pendingId === undefined) {
      ctx.status = 400;
      ctx.body = { status: 'error', message: 'This sign-in has expired. Start again.' };
      return;
    }
    try {
      const done = await users.pollNextcloudLogin(pendingId);
      if (done === null) {
        ctx.body = { status: 'pending' };
        return;
      }
      sessionCookie(ctx, done.cookie, done.session);
      setCookie(ctx, NEXTCLOUD_FLOW_COOKIE, '', { maxAgeSeconds: 0, secure, path: `${base}/signin/nextcloud`, sameSite: 'Strict' });
      state(ctx).log?.info({ userId: done.session.userId, mode: 'nextcloud' }, 'signed in');
      ctx.body = { status: 'done' };
    } catch (e) {
      if (!(e instanceof SignInError)) throw e;
      state(ctx).errorCode = `signin_${e.reason}`;
      if (e.reason === 'rate_limited') ctx.set('Retry-After', String(Math.max(1, Math.ceil(e.retryAfterSeconds ?? 60))));
      if (e.reason === 'flow_expired') setCookie(ctx, NEXTCLOUD_FLOW_COOKIE, '', { maxAgeSeconds: 0, secure, path: `${base}/signin/nextcloud`, sameSite: 'Strict' });
      ctx.status = e.reason === 'rate_limited' ? 429 : e.reason === 'drive_unreachable' ? 503 : 400;
      ctx.body = { status: 'error', message: e.message };
    }
  });

  router.post('/signout', async (ctx) => {
    const cookie = readCookie(ctx, USER_COOKIE);
    const session = await users.sessionOfCookie(cookie);
    const f = await trustedForm(ctx, session);
    if (!f) return;
    await users.signOut(cookie);
    clearSessionCookie(ctx);
    redirect(ctx, signInUrl('/', 'signed_out'));
  });

  // ----- errors as pages

  async function handleError(ctx: Context, e: unknown): Promise<void> {
    const st = state(ctx);
    const user = st.session ? userOf(st.session) : null;
    const home = { href: `${base}/`, label: 'Back to your files' };
    if (e instanceof PageError) {
      st.errorCode = e.code;
      sendHtml(ctx, e.status, renderMessagePage({ base, title: e.title, message: e.message, ...e.extra, user }));
      return;
    }
    if (e instanceof FormBodyError) {
      st.errorCode = 'bad_form';
      sendHtml(ctx, e.status, renderMessagePage({ base, title: 'Bad request', message: e.message, link: home, user }));
      return;
    }
    if (isWopiError(e) && e.status >= 400 && e.status < 500 && e.status !== 404) {
      // The client's side: a form body that stalled (408), was cut off (400) or whose sender left (499). The error
      // writer answers it (or only logs it when the client is gone) and closes the connection.
      throw e;
    }
    if (isWopiError(e) && e.status === 404) {
      st.errorCode = e.code;
      sendHtml(ctx, 404, renderMessagePage({ base, title: 'File not found', message: 'This file does not exist in your drive (any more).', link: home, user }));
      return;
    }
    if (e instanceof StorageError) {
      st.errorCode = `storage_${e.kind}`;
      if (e.kind === 'not_found') {
        sendHtml(ctx, 404, renderMessagePage({ base, title: 'Not found', message: 'This file or folder does not exist in your drive (any more).', link: home, user }));
        return;
      }
      if (e.kind === 'forbidden') {
        sendHtml(ctx, 403, renderMessagePage({ base, title: 'Not allowed', message: 'Your drive does not allow this.', link: home, user }));
        return;
      }
      if (e.kind === 'conflict' || e.kind === 'locked') {
        sendHtml(ctx, 409, renderMessagePage({ base, title: 'Not possible right now', message: 'The file is in use or changed meanwhile. Reload the folder and try again.', link: home, user }));
        return;
      }
      const ended = st.session ? await endSessionRefusedByDrive(users, st.session, e).catch(() => null) : null;
      if (ended && st.session) {
        // The drive refuses this person's own credentials (app password revoked, password changed): signed out.
        clearSessionCookie(ctx);
        st.log?.warn({ userId: st.session.userId }, 'drive refused the session credentials; signed out');
        st.errorCode = 'session_refused_by_drive';
        signInPage(ctx, 401, { next: ctx.method === 'GET' ? safeNext(`${base}${ctx.url}`) : '/', error: ended.message });
        return;
      }
      if (e.kind === 'unavailable' || e.kind === 'insufficient_storage') {
        st.error = e;
        sendHtml(ctx, 503, renderMessagePage({ base, title: 'Your drive is not available', message: e.kind === 'insufficient_storage' ? 'Your drive is full.' : 'Your drive cannot be reached right now. Try again in a moment.', link: home, user }));
        return;
      }
    }
    if (e instanceof SignInError) {
      st.errorCode = `signin_${e.reason}`;
      sendHtml(ctx, 503, renderMessagePage({ base, title: 'Sign-in is not available', message: e.message, user }));
      return;
    }
    st.errorCode = 'internal_error';
    st.error = e;
    sendHtml(ctx, 500, renderMessagePage({ base, title: 'Something went wrong', message: 'The page could not be shown.', reqId: String(st.reqId ?? ''), link: home, user }));
  }

  // The router's own context type adds params/router, which it sets itself.
  const routes = router.routes() as unknown as Middleware;
  const allowed = router.allowedMethods() as unknown as Middleware;
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!isWebPath(ctx.path)) {
      await next();
      return;
    }
    try {
      await routes(ctx, async () => {
        await allowed(ctx, next);
      });
    } catch (e) {
      await handleError(ctx, e);
    }
    if (!ctx.headerSent && !ctx.response.get('Content-Security-Policy')) setWebSecurityHeaders(ctx, docsPublic);
  };
}
