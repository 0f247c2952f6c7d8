/**
 * The drive checks: reachable, credentials accepted, flavour and version (`status.php`), WebDAV root correct.
 *
 * Each is its own function returning one CheckResult; `checkDrive` runs all four on one shared session (see
 * drive/session.ts), so the drive is asked each question once and the whole run ends within `timeoutMs`.
 * Nothing in a result ever holds a password: credentials only travel in Authorization headers, URLs are shown
 * without user info or query.
 */
import type { StorageFlavour } from '../config/config.js';
import { parseMultistatus } from '../storage/webdav/parseMultistatus.js';
import { parseSabreError } from '../storage/webdav/toStorageError.js';
import { measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { filesUrl, type DavUrlInfo } from './drive/davUrl.js';
import { DRIVE_SETTING, DriveNetworkError, describeNetworkError, headerOf, redactUrl, type ProbeResponse } from './drive/http.js';
import { DriveSession, type DriveCheckInput, type DriveCheckOptions } from './drive/session.js';
import { msg, type CheckMessage } from './checkMessages.js';

export type { DriveCheckInput, DriveCheckOptions } from './drive/session.js';

/** Ids of the drive checks (stable: the CLI's `--only`, the page and the tests match on them). */
export const DRIVE_CHECK_IDS = {
  reachable: 'drive_reachable',
  credentials: 'drive_credentials',
  flavour: 'drive_flavour',
  root: 'drive_root',
} as const;

const S = DRIVE_SETTING;

function productLabel(flavour: StorageFlavour): string {
  return flavour === 'nextcloud' ? 'Nextcloud' : flavour === 'owncloud' ? 'ownCloud' : 'the WebDAV server';
}

/** Sabre's `s:exception` / `s:message` of an error answer, as one short phrase; '' when the body is not Sabre XML. */
function sabreText(res: ProbeResponse): string {
  const s = parseSabreError(res.body.toString('utf8'));
  if (!s) return '';
  return [s.exception, s.message].filter((x): x is string => x !== null && x !== '').join(': ');
}

function httpLine(res: ProbeResponse): string {
  const sabre = sabreText(res);
  return `HTTP ${res.status}${res.reason ? ` ${res.reason}` : ''}${sabre ? ` (${sabre})` : ''}`;
}

/** The fix for rejected credentials, by flavour. */
export function credentialsFix(flavour: StorageFlavour, username: string): string {
  if (flavour === 'nextcloud') {
    return (
      `Use a Nextcloud app password: sign in to Nextcloud as ${username} → Personal settings → Security → ` +
      `"Devices & sessions" → "Create new app password", and put it in ${S.password}. With two-factor ` +
      `authentication or single sign-on (SAML/OIDC) the login password never works for WebDAV. Also check that ` +
      `${S.user} is the login name; repeated failures are throttled by Nextcloud's brute-force protection.`
    );
  }
  if (flavour === 'owncloud') {
    return (
      `Check ${S.user} and ${S.password}. With two-factor authentication or OpenID Connect, create an app passcode ` +
      `(ownCloud → Settings → Security → "App passwords") and use it as ${S.password}.`
    );
  }
  return `Check ${S.user} and ${S.password} against the WebDAV server's accounts.`;
}

/**
 * The translatable form of {@link credentialsFix}.
 * @param flavour - the drive's kind
 * @param username - the account named
 * @param settings - the settings holding the account (default the drive account's; the encryption check names the admin's)
 */
export function credentialsFixMessage(flavour: StorageFlavour, username: string, settings: { user: string; password: string } = { user: S.user, password: S.password }): CheckMessage {
  const p = { user: username, userSetting: settings.user, passwordSetting: settings.password };
  const [nextcloud, owncloud] = [flavour === 'nextcloud', flavour === 'owncloud'];
  return msg(nextcloud ? 'drive_credentials_fix_nextcloud' : owncloud ? 'drive_credentials_fix_owncloud' : 'drive_credentials_fix_generic', p);
}

const NOT_CHECKED_UNREACHABLE = { summary: msg('drive_not_checked_unreachable') };
const notCheckedBadUrl = (): { summary: CheckMessage } => ({ summary: msg('drive_not_checked_bad_url', { setting: S.url }) });

// ---------------------------------------------------------------------------------------------------------------
// reachable

async function reachable(session: DriveSession): Promise<CheckOutcome> {
  const id = DRIVE_CHECK_IDS.reachable;
  const url = session.input.davUrl;
  if (!session.info) {
    const d = describeNetworkError(new DriveNetworkError('bad_url', null, 'not a valid http(s) URL', ''), 'reach', url);
    return { id, status: 'fail', summary: d.summary, fix: d.fix, data: { transport: 'bad_url' }, messages: d.messages };
  }
  const res = await session.propfindRoot();
  if (res instanceof DriveNetworkError) {
    const d = describeNetworkError(res, 'reach', url);
    return { id, status: 'fail', summary: d.summary, detail: d.detail, fix: d.fix, data: { url: redactUrl(url), transport: res.kind, code: res.code }, messages: d.messages };
  }
  const data = { url: redactUrl(url), httpStatus: res.status };
  const sabre = sabreText(res);
  if ((res.status === 502 || res.status === 504 || (res.status === 503 && sabre === '')) && !/<d:error/i.test(res.body.toString('utf8'))) {
    return {
      id,
      status: 'fail',
      summary: `A proxy in front of the drive answered HTTP ${res.status}${res.reason ? ` ${res.reason}` : ''}: the drive's server behind it does not answer.`,
      detail: `PROPFIND ${redactUrl(session.rootUrl())} → HTTP ${res.status}; ${headerOf(res, 'server') ? `Server: ${headerOf(res, 'server')}` : 'no Server header'}.`,
      fix: 'Check that the drive\'s web server / PHP-FPM behind the reverse proxy is running, and the proxy\'s upstream address (its error log names it).',
      data,
      messages: {
        summary: msg('drive_proxy_down', { status: `${res.status}${res.reason ? ` ${res.reason}` : ''}` }),
        detail: headerOf(res, 'server')
          ? msg('drive_proxy_down_detail', { url: redactUrl(session.rootUrl()), status: res.status, server: headerOf(res, 'server') ?? '' })
          : msg('drive_proxy_down_detail_no_server', { url: redactUrl(session.rootUrl()), status: res.status }),
        fix: msg('drive_proxy_down_fix'),
      },
    };
  }
  return {
    id,
    status: 'ok',
    summary: `The drive answers at ${new URL(url).host} (HTTP ${res.status} to PROPFIND).`,
    detail: `PROPFIND ${redactUrl(session.rootUrl())} (Depth 0) → ${httpLine(res)}.`,
    data,
    messages: { summary: msg('drive_reachable_ok', { host: new URL(url).host, status: res.status }), detail: msg('drive_propfind_detail', { url: redactUrl(session.rootUrl()), answer: httpLine(res) }) },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// credentials

async function credentials(session: DriveSession): Promise<CheckOutcome> {
  const id = DRIVE_CHECK_IDS.credentials;
  if (!session.info) return { id, status: 'skipped', summary: `Not checked: ${S.url} is not a valid URL.`, messages: notCheckedBadUrl() };
  const res = await session.propfindRoot();
  if (res instanceof DriveNetworkError) return { id, status: 'skipped', summary: 'Not checked: the drive cannot be reached (see the reachability check).', messages: NOT_CHECKED_UNREACHABLE };
  const flavour = await session.flavour();
  const creds = session.credentials;
  const [isNextcloud, isOwncloud] = [flavour === 'nextcloud', flavour === 'owncloud'];
  if (!creds) {
    if (res.status === 401) {
      return {
        id,
        status: 'fail',
        summary: `The drive requires sign-in (HTTP 401) but no drive account is configured.`,
        fix: `Set ${S.user} and ${S.password} (for ${productLabel(flavour)}: ${flavour === 'nextcloud' ? 'an app password' : 'the account\'s password'}). ${credentialsFix(flavour, '<user>')}`,
        data: { httpStatus: 401 },
        messages: {
          summary: msg('drive_sign_in_required'),
          fix: msg(isNextcloud ? 'drive_sign_in_required_fix_nextcloud' : isOwncloud ? 'drive_sign_in_required_fix_owncloud' : 'drive_sign_in_required_fix_generic', {
            user: '<user>',
            userSetting: S.user,
            passwordSetting: S.password,
          }),
        },
      };
    }
    return {
      id,
      status: 'skipped',
      summary: `No drive account is configured (${S.user} is empty); the drive answered HTTP ${res.status} without sign-in.`,
      data: { httpStatus: res.status },
      messages: { summary: msg('drive_no_account', { setting: S.user, status: res.status }) },
    };
  }
  const who = creds.username;
  if (res.status === 401) {
    return {
      id,
      status: 'fail',
      summary: `${productLabel(flavour)} rejected the user name or password of "${who}" (HTTP 401).`,
      detail: `PROPFIND ${redactUrl(session.rootUrl())} → ${httpLine(res)}${headerOf(res, 'www-authenticate') ? `; WWW-Authenticate: ${headerOf(res, 'www-authenticate')}` : ''}.`,
      fix: credentialsFix(flavour, who),
      data: { httpStatus: 401, username: who },
      messages: { summary: msg('drive_credentials_rejected', { product: productLabel(flavour), user: who }), fix: credentialsFixMessage(flavour, who) },
    };
  }
  // Off a DAV path (the server root, the web UI) the PROPFIND proves nothing: ask OCS who the credentials are.
  const user = await session.ocsUser();
  if (user?.kind === 'unauthorized') {
    return {
      id,
      status: 'fail',
      summary: `${productLabel(flavour)} rejected the user name or password of "${who}" (HTTP 401 from OCS /cloud/user).`,
      fix: credentialsFix(flavour, who),
      data: { httpStatus: 401, username: who },
      messages: { summary: msg('drive_credentials_rejected_ocs', { product: productLabel(flavour), user: who }), fix: credentialsFixMessage(flavour, who) },
    };
  }
  const userId = await session.userId();
  if (res.status === 403) {
    return {
      id,
      status: 'fail',
      summary: `Signed in as "${who}", but the drive forbids access to this URL (HTTP 403).`,
      detail: `PROPFIND ${redactUrl(session.rootUrl())} → ${httpLine(res)}.`,
      fix: `Give "${who}" access to that folder, or use a URL the account may read (for ${productLabel(flavour)}: its own files folder).`,
      data: { httpStatus: 403, username: who, ...(userId ? { userId } : {}) },
      messages: { summary: msg('drive_forbidden', { user: who }), fix: msg('drive_forbidden_fix', { user: who, product: productLabel(flavour) }) },
    };
  }
  if (userId !== null) {
    return {
      id,
      status: 'ok',
      summary: `${productLabel(flavour)} accepted the credentials of "${who}" (user id ${userId}).`,
      detail: `OCS /cloud/user → id ${userId}; PROPFIND on the URL → HTTP ${res.status}.`,
      data: { username: who, userId, httpStatus: res.status },
      messages: { summary: msg('drive_credentials_ok_user', { product: productLabel(flavour), user: who, userId }) },
    };
  }
  if (res.status >= 200 && res.status < 300) {
    return {
      id,
      status: 'ok',
      summary: `The drive accepted the credentials of "${who}".`,
      detail: `PROPFIND ${redactUrl(session.rootUrl())} → HTTP ${res.status}.`,
      data: { username: who, httpStatus: res.status },
      messages: { summary: msg('drive_credentials_ok', { user: who }) },
    };
  }
  return {
    id,
    status: 'skipped',
    summary: `Cannot tell whether the credentials of "${who}" are right: the URL answered ${httpLine(res)} without asking for them (see the WebDAV root check).`,
    data: { username: who, httpStatus: res.status },
    messages: { summary: msg('drive_credentials_unknown', { user: who, answer: httpLine(res) }) },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// flavour

async function flavour(session: DriveSession): Promise<CheckOutcome> {
  const id = DRIVE_CHECK_IDS.flavour;
  if (!session.info) return { id, status: 'skipped', summary: `Not checked: ${S.url} is not a valid URL.`, messages: notCheckedBadUrl() };
  const override = session.input.flavourOverride ?? 'auto';
  const st = await session.status();
  if (st.kind === 'network') {
    const root = await session.propfindRoot();
    if (root instanceof DriveNetworkError) return { id, status: 'skipped', summary: 'Not checked: the drive cannot be reached (see the reachability check).', messages: NOT_CHECKED_UNREACHABLE };
  }
  if (st.kind === 'status') {
    const s = st.status;
    const name = `${s.productName} ${s.versionString ?? s.version ?? ''}`.trim();
    const data = {
      flavour: override === 'auto' ? s.flavour : override,
      detected: s.flavour,
      productName: s.productName,
      version: s.version,
      versionString: s.versionString,
      edition: s.edition,
      maintenance: s.maintenance,
      needsDbUpgrade: s.needsDbUpgrade,
      statusUrl: redactUrl(st.url),
    };
    const occ = `sudo -u www-data php occ`;
    const overridden = override !== 'auto';
    if (!s.installed) {
      return {
        id,
        status: 'fail',
        summary: `${name} is not installed yet (status.php: "installed": false): WebDAV does not work until the installation is finished.`,
        fix: `Finish the installation in a browser at ${redactUrl(st.url.replace(/\/status\.php$/, '/'))} or with \`${occ} maintenance:install\`.`,
        data,
        messages: { summary: msg('drive_not_installed', { name }), fix: msg('drive_not_installed_fix', { url: redactUrl(st.url.replace(/\/status\.php$/, '/')), occ }) },
      };
    }
    if (s.maintenance) {
      return {
        id,
        status: 'fail',
        summary: `${name} is in maintenance mode (status.php: "maintenance": true): every WebDAV request is answered 503, no document can be opened or saved.`,
        fix: `Wait for the maintenance (upgrade, backup) to finish, or end it on the server: \`${occ} maintenance:mode --off\`.`,
        data,
        messages: { summary: msg('drive_maintenance', { name }), fix: msg('drive_maintenance_fix', { occ }) },
      };
    }
    if (s.needsDbUpgrade) {
      return {
        id,
        status: 'fail',
        summary: `${name} waits for its database upgrade (status.php: "needsDbUpgrade": true): WebDAV is answered 503 until it is done.`,
        fix: `Finish the upgrade on the server: \`${occ} upgrade\` (or open ${s.productName} in a browser as an administrator and start the update), then check again.`,
        data,
        messages: { summary: msg('drive_db_upgrade', { name }), fix: msg('drive_db_upgrade_fix', { occ, product: s.productName }) },
      };
    }
    if (override !== 'auto' && override !== s.flavour) {
      return {
        id,
        status: 'warn',
        summary: `status.php says ${name}, but ${S.flavour} is set to ${override}.`,
        detail:
          override === 'generic'
            ? `As "generic" the bridge writes through a temporary file and MOVE, and does not use ${s.productName}'s file ids, so files moved on the drive are not found again.`
            : `The bridge applies ${productLabel(override)}'s rules to a ${s.productName} server.`,
        fix: `Set ${S.flavour} to auto (or ${s.flavour}).`,
        data,
        messages: {
          summary: msg('drive_flavour_override', { name, setting: S.flavour, override }),
          detail:
            override === 'generic'
              ? msg('drive_flavour_override_generic_detail', { product: s.productName })
              : msg('drive_flavour_override_other_detail', { override: productLabel(override), product: s.productName }),
          fix: msg('drive_flavour_override_fix', { setting: S.flavour, flavour: s.flavour }),
        },
      };
    }
    return {
      id,
      status: 'ok',
      summary: `${name} (from status.php)${override !== 'auto' ? `, ${S.flavour} set to ${override}` : ''}.`,
      detail: `GET ${redactUrl(st.url)} → installed, not in maintenance, database up to date${s.edition ? `, edition ${s.edition}` : ''}.`,
      data,
      messages: {
        summary: msg(overridden ? 'drive_flavour_ok_set' : 'drive_flavour_ok', { name, setting: S.flavour, override }),
        detail: msg(s.edition ? 'drive_flavour_ok_detail_edition' : 'drive_flavour_ok_detail', { url: redactUrl(st.url), edition: s.edition ?? '' }),
      },
    };
  }
  const how = st.kind === 'absent' ? `HTTP ${st.httpStatus}${st.contentType ? `, ${st.contentType}` : ''}` : `no answer (${st.error.kind})`;
  const data = { flavour: override === 'auto' ? 'generic' : override, detected: 'generic', statusUrl: redactUrl(st.url) };
  if (override === 'nextcloud' || override === 'owncloud') {
    return {
      id,
      status: 'warn',
      summary: `${S.flavour} is set to ${override}, but ${redactUrl(st.url)} is not ${productLabel(override)}'s status.php (${how}).`,
      fix: `If the drive really is ${productLabel(override)}, check the host and sub-path in ${S.url}; otherwise set ${S.flavour} to auto or generic.`,
      data,
      messages: {
        summary: msg('drive_flavour_forced_absent', { setting: S.flavour, override, url: redactUrl(st.url), product: productLabel(override), how }),
        fix: msg('drive_flavour_forced_absent_fix', { product: productLabel(override), urlSetting: S.url, setting: S.flavour }),
      },
    };
  }
  return {
    id,
    status: 'ok',
    summary: `Generic WebDAV server (no Nextcloud/ownCloud status.php at ${redactUrl(st.url)}: ${how}).`,
    detail: 'The bridge writes through a temporary file and MOVE and checks versions itself, since a generic server may ignore If-Match.',
    data,
    messages: { summary: msg('drive_flavour_generic', { url: redactUrl(st.url), how }), detail: msg('drive_flavour_generic_detail') },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// root

function suggestion(info: DavUrlInfo, userId: string | null, username: string | null): string {
  return filesUrl(info.base, userId ?? username ?? '<user>');
}

async function root(session: DriveSession): Promise<CheckOutcome> {
  const id = DRIVE_CHECK_IDS.root;
  const info = session.info;
  if (!info) return { id, status: 'skipped', summary: `Not checked: ${S.url} is not a valid URL.`, messages: notCheckedBadUrl() };
  const res = await session.propfindRoot();
  if (res instanceof DriveNetworkError) return { id, status: 'skipped', summary: 'Not checked: the drive cannot be reached (see the reachability check).', messages: NOT_CHECKED_UNREACHABLE };
  if (res.status === 401) {
    return { id, status: 'skipped', summary: 'Not checked: the drive rejected the credentials (see the credentials check).', messages: { summary: msg('drive_root_not_checked_credentials') } };
  }
  const fl = await session.flavour();
  const userId = await session.userId();
  const username = session.credentials?.username ?? null;
  const shown = redactUrl(session.input.davUrl);
  const isCloud = fl === 'nextcloud' || fl === 'owncloud';
  const right = isCloud ? suggestion(info, userId, username) : null;
  const data: Record<string, unknown> = { url: shown, httpStatus: res.status, kind: info.kind, ...(right ? { suggestedUrl: redactUrl(right) } : {}) };
  const product = productLabel(fl);
  const whereFix = (lead: string): string =>
    `${lead} Set ${S.url} to ${right ?? ''} (${product} shows it under Files → Files settings (bottom left) → WebDAV).`;
  const whereParams = { setting: S.url, url: right ?? '', product };
  const p = { url: shown, product };

  if (isCloud && (info.kind === 'no-dav' || info.kind === 'dav-root' || info.kind === 'remote-other')) {
    const what =
      info.kind === 'no-dav'
        ? `is ${product}'s address, not a WebDAV folder (it lacks /remote.php/dav/files/<user>)`
        : info.kind === 'dav-root'
          ? 'is the DAV root, not a user\'s files folder (it lacks the /files/<user> part)'
          : `is not a files folder under /remote.php/dav/files/<user>`;
    return {
      id,
      status: 'fail',
      summary: `${shown} ${what}.`,
      detail: `PROPFIND → ${httpLine(res)}.${userId ? ` OCS /cloud/user says the account's user id is ${userId}.` : ''}`,
      fix: whereFix('The bridge needs the WebDAV folder of the drive account.'),
      data,
      messages: {
        summary: msg(info.kind === 'no-dav' ? 'drive_root_no_dav' : info.kind === 'dav-root' ? 'drive_root_dav_root' : 'drive_root_remote_other', p),
        fix: msg('drive_root_fix_dav_folder', whereParams),
      },
    };
  }
  if (res.status >= 300 && res.status < 400) {
    const loc = headerOf(res, 'location');
    return {
      id,
      status: 'fail',
      summary: `${shown} redirects (HTTP ${res.status}) to ${loc ? redactUrl(new URL(loc, session.rootUrl()).toString()) : 'another address'}; WebDAV clients do not follow redirects for PROPFIND and PUT.`,
      fix: `Set ${S.url} to the address it redirects to (often http:// → https://, or a missing sub-path).`,
      data: { ...data, location: loc ? redactUrl(new URL(loc, session.rootUrl()).toString()) : null },
      messages: {
        summary: loc
          ? msg('drive_root_redirect', { ...p, status: res.status, target: redactUrl(new URL(loc, session.rootUrl()).toString()) })
          : msg('drive_root_redirect_nowhere', { ...p, status: res.status }),
        fix: msg('drive_root_redirect_fix', { setting: S.url }),
      },
    };
  }
  if (res.status === 207) {
    let entries;
    try {
      entries = await parseMultistatus(res.body.toString('utf8'));
    } catch {
      entries = null;
    }
    const self = entries?.[0];
    if (!self) {
      return {
        id,
        status: 'fail',
        summary: `${shown} answered 207 Multi-Status, but not with a valid WebDAV multistatus body.`,
        fix: `Check that ${S.url} points at the WebDAV server itself and not at a proxy or page that rewrites answers.`,
        data,
        messages: { summary: msg('drive_root_bad_multistatus', p), fix: msg('drive_root_bad_multistatus_fix', { setting: S.url }) },
      };
    }
    if (self.props.collection !== true) {
      return {
        id,
        status: 'fail',
        summary: `${shown} is a file, not a folder: the drive root must be a WebDAV collection.`,
        fix: isCloud ? whereFix('Use the folder, not a file in it.') : `Set ${S.url} to the folder that holds the documents.`,
        data,
        messages: { summary: msg('drive_root_is_file', p), fix: isCloud ? msg('drive_root_fix_use_folder', whereParams) : msg('drive_root_is_file_fix', { setting: S.url }) },
      };
    }
    if (isCloud && info.kind === 'legacy') {
      return {
        id,
        status: 'warn',
        summary: `${shown} is ${product}'s legacy WebDAV endpoint (/remote.php/webdav): it works, but files moved or renamed in ${product} are not found again by their id.`,
        detail: `PROPFIND (Depth 0) → 207, a collection. Finding a file by its id (SEARCH) needs the /remote.php/dav/files/<user> root.`,
        fix: whereFix(`Switch to the current endpoint.`),
        data,
        messages: { summary: msg('drive_root_legacy', p), detail: msg('drive_root_legacy_detail'), fix: msg('drive_root_fix_current', whereParams) },
      };
    }
    if (isCloud && info.kind === 'files-sub') {
      return {
        id,
        status: 'warn',
        summary: `${shown} is the sub-folder ${info.subPath ?? ''} of ${info.user ?? 'a user'}'s files: the bridge sees only that folder, and files moved in ${product} are not found again by their id.`,
        detail: 'PROPFIND (Depth 0) → 207, a collection. Finding a file by its id (SEARCH) needs the user\'s root folder as the drive root.',
        fix: whereFix('If the bridge should see all of the account\'s files and follow moved files,'),
        data,
        messages: {
          summary: msg(info.user ? 'drive_root_sub' : 'drive_root_sub_no_user', { ...p, sub: info.subPath ?? '', user: info.user ?? '' }),
          detail: msg('drive_root_sub_detail'),
          fix: msg('drive_root_fix_see_all', whereParams),
        },
      };
    }
    return {
      id,
      status: 'ok',
      summary: `${shown} is a WebDAV folder${isCloud && info.user ? ` (${info.user}'s files)` : ''}.`,
      detail: `PROPFIND (Depth 0) → 207 Multi-Status, resourcetype collection.`,
      data,
      messages: { summary: msg(isCloud && info.user ? 'drive_root_ok_user' : 'drive_root_ok', { ...p, user: info.user ?? '' }), detail: msg('drive_root_ok_detail') },
    };
  }
  if (res.status === 404) {
    const other = isCloud && info.kind === 'files' && userId !== null && info.user !== userId;
    return {
      id,
      status: 'fail',
      summary: other
        ? `${shown} is the files folder of "${info.user ?? ''}", but the credentials belong to user id "${userId ?? ''}": ${product} answers 404 for another user's folder.`
        : `There is no WebDAV folder at ${shown} (HTTP 404${sabreText(res) ? `: ${sabreText(res)}` : ''}).`,
      fix: isCloud ? whereFix(other ? 'Use the folder of the account the bridge signs in with.' : 'Correct the path.') : `Correct the path in ${S.url}.`,
      data,
      messages: {
        summary: other
          ? msg('drive_root_other_user', { ...p, user: info.user ?? '', userId: userId ?? '' })
          : msg('drive_root_not_found', { ...p, answer: `HTTP 404${sabreText(res) ? `: ${sabreText(res)}` : ''}` }),
        fix: isCloud ? msg(other ? 'drive_root_fix_other_user' : 'drive_root_fix_path', whereParams) : msg('drive_root_fix_generic_path', { setting: S.url }),
      },
    };
  }
  if (res.status === 405 || res.status === 501) {
    return {
      id,
      status: 'fail',
      summary: `${shown} does not accept PROPFIND (HTTP ${res.status}): it is not a WebDAV URL.`,
      fix: isCloud ? whereFix('Use the WebDAV URL.') : `Set ${S.url} to the WebDAV URL of the server (check its documentation: often a /dav or /webdav path).`,
      data,
      messages: {
        summary: msg('drive_root_no_propfind', { ...p, status: res.status }),
        fix: isCloud ? msg('drive_root_fix_webdav_url', whereParams) : msg('drive_root_no_propfind_fix', { setting: S.url }),
      },
    };
  }
  if (res.status >= 200 && res.status < 300) {
    const ct = headerOf(res, 'content-type') ?? 'no content type';
    return {
      id,
      status: 'fail',
      summary: `${shown} answers PROPFIND like a web page (HTTP ${res.status}, ${ct}), not as a WebDAV folder.`,
      fix: isCloud ? whereFix('Use the WebDAV URL, not the web interface\'s.') : `Set ${S.url} to the WebDAV URL of the server.`,
      data,
      messages: {
        summary: msg('drive_root_web_page', { ...p, status: res.status, contentType: ct }),
        fix: isCloud ? msg('drive_root_fix_not_web_ui', whereParams) : msg('drive_root_web_page_fix', { setting: S.url }),
      },
    };
  }
  if (res.status === 403) {
    return { id, status: 'skipped', summary: 'Not checked: access to the URL is forbidden (see the credentials check).', data, messages: { summary: msg('drive_root_forbidden') } };
  }
  const st = await session.status();
  const inMaintenance = st.kind === 'status' && (st.status.maintenance || st.status.needsDbUpgrade);
  return {
    id,
    status: 'fail',
    summary: `PROPFIND on ${shown} failed: ${httpLine(res)}.`,
    fix: inMaintenance
      ? `${product} is in maintenance mode or waits for an upgrade (see the flavour check).`
      : `Look at the drive's log for this request (${product === 'Nextcloud' ? 'Administration settings → Logging, or data/nextcloud.log' : 'the server\'s error log'}).`,
    data,
    messages: {
      summary: msg('drive_root_failed', { ...p, answer: httpLine(res) }),
      fix: inMaintenance
        ? msg('drive_root_failed_maintenance_fix', p)
        : msg(product === 'Nextcloud' ? 'drive_root_failed_fix_nextcloud' : 'drive_root_failed_fix_other'),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// public API

/**
 * Can the bridge reach the drive at all? Names the network failure: refused, DNS, timeout, TLS (each kind),
 * unreachable, reset, bad URL; a proxy's 502/504 fails too.
 */
export function checkDriveReachable(input: DriveCheckInput, options: DriveCheckOptions = {}): Promise<CheckResult> {
  const session = new DriveSession(input, options);
  return measureCheck(DRIVE_CHECK_IDS.reachable, () => reachable(session));
}

/** Are the drive credentials accepted? 401 fails with the fix (an app password for Nextcloud). */
export function checkDriveCredentials(input: DriveCheckInput, options: DriveCheckOptions = {}): Promise<CheckResult> {
  const session = new DriveSession(input, options);
  return measureCheck(DRIVE_CHECK_IDS.credentials, () => credentials(session));
}

/** Flavour and version from status.php; maintenance mode, pending database upgrade or an unfinished install fail. */
export function checkDriveFlavour(input: DriveCheckInput, options: DriveCheckOptions = {}): Promise<CheckResult> {
  const session = new DriveSession(input, options);
  return measureCheck(DRIVE_CHECK_IDS.flavour, () => flavour(session));
}

/**
 * Is the URL the right WebDAV root? PROPFIND Depth 0 must find a collection; on Nextcloud/ownCloud the URL must be
 * `/remote.php/dav/files/<user id>` (the right URL is suggested), the legacy `/remote.php/webdav` is a warning.
 */
export function checkDriveRoot(input: DriveCheckInput, options: DriveCheckOptions = {}): Promise<CheckResult> {
  const session = new DriveSession(input, options);
  return measureCheck(DRIVE_CHECK_IDS.root, () => root(session));
}

/**
 * All four drive checks on one session (each request made once), in the order reachable, credentials, flavour,
 * root. Finishes within `input.timeoutMs` (plus scheduling), whatever the drive does.
 */
export async function checkDrive(input: DriveCheckInput, options: DriveCheckOptions = {}): Promise<CheckResult[]> {
  const session = new DriveSession(input, options);
  return Promise.all([
    measureCheck(DRIVE_CHECK_IDS.reachable, () => reachable(session)),
    measureCheck(DRIVE_CHECK_IDS.credentials, () => credentials(session)),
    measureCheck(DRIVE_CHECK_IDS.flavour, () => flavour(session)),
    measureCheck(DRIVE_CHECK_IDS.root, () => root(session)),
  ]);
}
