/**
 * Where a person's files are on the drive: STORAGE_URL with its `{user}` placeholder filled in (URL parsing leaves it
 * as `%7Buser%7D`), or for a Nextcloud/ownCloud URL ending in `/remote.php/dav/files/<someone>` that last segment
 * replaced by the person's login name; otherwise the same URL for everyone.
 */

const PLACEHOLDER = /\{user\}|%7Buser%7D/i;
const PLACEHOLDERS = /\{user\}|%7Buser%7D/gi;
const NEXTCLOUD_FILES = /^(.*\/remote\.php\/dav\/files\/)[^/]+\/?$/;

/**
 * The WebDAV root of one person.
 * @param storageUrl STORAGE_URL
 * @param username the name the drive knows them by
 * @returns a URL without trailing slash
 */
export function userDavRoot(storageUrl: string, username: string): string {
  const name = encodeURIComponent(username);
  let url: string;
  if (PLACEHOLDER.test(storageUrl)) {
    url = storageUrl.replace(PLACEHOLDERS, name);
  } else {
    const m = NEXTCLOUD_FILES.exec(storageUrl);
    url = m ? `${m[1] as string}${name}` : storageUrl;
  }
  return url.replace(/\/+$/, '');
}

/** Whether STORAGE_URL has a `{user}` placeholder. */
export function hasUserPlaceholder(storageUrl: string): boolean {
  return PLACEHOLDER.test(storageUrl);
}
