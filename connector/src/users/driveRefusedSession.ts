/**
 * A drive that answers 401 to a session's own credentials (a revoked Nextcloud app password, a changed WebDAV
 * password) ends that session: its tokens stop working and the person is told to sign in again. The WOPI router
 * and the pages both go through here.
 */
import { isWopiError } from '../errors/errors.js';
import { StorageError } from '../storage/StorageAdapter.js';
import { SignInError, type UserService, type UserSession } from './types.js';

/** Message for a Nextcloud session whose app password the drive no longer accepts. */
export const REVOKED_APP_PASSWORD_MESSAGE = 'Your Nextcloud app password is no longer accepted (revoked?); sign in again';
/** Message for a WebDAV session whose password the drive no longer accepts. */
export const CHANGED_PASSWORD_MESSAGE = 'The drive no longer accepts your user name and password (changed?); sign in again';

/**
 * Whether an error is the drive refusing the credentials it was given (HTTP 401), as a StorageError or as the
 * WOPI error made from one.
 */
export function isDriveAuthFailure(e: unknown): boolean {
  if (e instanceof StorageError) return e.kind === 'unavailable' && e.detail.auth === true;
  return isWopiError(e) && e.code === 'storage_unavailable' && e.detail.auth === true;
}

/**
 * Ends a session when the drive refused its credentials.
 * @param users the user service
 * @param session the session whose drive failed
 * @param e what the drive operation threw
 * @returns the error to show the person (bad_credentials, message for them) when the session was ended; null when
 *   `e` is something else, or the credentials are the configured service account's (not the person's to fix)
 */
export async function endSessionRefusedByDrive(users: UserService, session: Pick<UserSession, 'sid' | 'mode'>, e: unknown): Promise<SignInError | null> {
  if (session.mode === 'service' || !isDriveAuthFailure(e)) return null;
  await users.revoke(session.sid);
  return new SignInError('bad_credentials', session.mode === 'nextcloud' ? REVOKED_APP_PASSWORD_MESSAGE : CHANGED_PASSWORD_MESSAGE);
}
