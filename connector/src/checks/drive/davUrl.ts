/**
 * What a drive URL says about itself on Nextcloud / ownCloud: where the server's base is (status.php, OCS), and
 * whether the path is a user's WebDAV folder (`/remote.php/dav/files/<user>`), the legacy endpoint
 * (`/remote.php/webdav`), or something else (the server root, the DAV root, the web UI).
 */

export type DavUrlKind =
  /** `/remote.php/dav/files/<user>` */
  | 'files'
  /** `/remote.php/dav/files/<user>/<folder>…` */
  | 'files-sub'
  /** `/remote.php/webdav[/…]` (legacy, still served) */
  | 'legacy'
  /** `/remote.php/dav` or `/remote.php/dav/files` (no user) */
  | 'dav-root'
  /** anything else below `/remote.php/` */
  | 'remote-other'
  /** no `/remote.php/` at all: the server root, the web UI (`/index.php/apps/files`), … */
  | 'no-dav';

export interface DavUrlInfo {
  /** Origin plus the install's sub-path (e.g. `https://host/nextcloud`), no trailing slash. */
  base: string;
  kind: DavUrlKind;
  /** The user segment of a files URL, decoded. */
  user: string | null;
  /** For files-sub / legacy: the folder below the user's root, decoded, e.g. `/Docs`; else null. */
  subPath: string | null;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Analyses a drive URL. Throws TypeError for an invalid URL. */
export function analyseDavUrl(raw: string): DavUrlInfo {
  const u = new URL(raw);
  const path = u.pathname;
  const remote = path.indexOf('/remote.php');
  if (remote < 0) {
    // The web UI's URL (…/index.php/apps/files/…, …/apps/files/…) or the server root, possibly in a sub-folder.
    const ui = /\/(index\.php|apps|login|ocs|status\.php)(\/|$)/.exec(path);
    const prefix = (ui ? path.slice(0, ui.index) : path).replace(/\/+$/, '');
    return { base: `${u.origin}${prefix}`, kind: 'no-dav', user: null, subPath: null };
  }
  const base = `${u.origin}${path.slice(0, remote)}`;
  const segs = path
    .slice(remote + '/remote.php'.length)
    .split('/')
    .filter((s) => s !== '')
    .map(decode);
  if (segs[0] === 'webdav') {
    const sub = segs.slice(1);
    return { base, kind: 'legacy', user: null, subPath: sub.length > 0 ? `/${sub.join('/')}` : null };
  }
  if (segs[0] === 'dav') {
    if (segs.length <= 1 || (segs[1] === 'files' && segs.length === 2)) return { base, kind: 'dav-root', user: null, subPath: null };
    if (segs[1] === 'files' && segs[2] !== undefined) {
      const sub = segs.slice(3);
      return sub.length > 0
        ? { base, kind: 'files-sub', user: segs[2], subPath: `/${sub.join('/')}` }
        : { base, kind: 'files', user: segs[2], subPath: null };
    }
  }
  return { base, kind: 'remote-other', user: null, subPath: null };
}

/** The WebDAV URL of a user's files below a Nextcloud/ownCloud base. */
export function filesUrl(base: string, userId: string): string {
  return `${base}/remote.php/dav/files/${encodeURIComponent(userId)}`;
}
