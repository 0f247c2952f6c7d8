import type { Config } from '../config/config.js';
import { issueAccessToken, type AccessGrant } from '../tokens/accessToken.js';

/**
 * The URLs a WOPI client gets for a file: its WOPISrc with a fresh token for the same user in the same sign-in
 * session, so signing out ends it too (PutRelativeFile's `Url`), and the host pages that open it for viewing or
 * editing (DS's convert-and-edit flow redirects to HostEditUrl).
 */
export function fileUrls(config: Config, fileId: string, grant: Pick<AccessGrant, 'userId' | 'userName' | 'canWrite'> & { sid?: string | null }): { Url: string; HostViewUrl: string; HostEditUrl: string } {
  const { token } = issueAccessToken(config.tokens.secret, { userId: grant.userId, userName: grant.userName, fileId, canWrite: grant.canWrite, sid: grant.sid ?? null }, config.tokens.ttlSeconds);
  const id = encodeURIComponent(fileId);
  return {
    Url: `${config.publicUrl}/wopi/files/${id}?access_token=${encodeURIComponent(token)}`,
    HostViewUrl: `${config.publicUrl}/open/${id}?action=view`,
    HostEditUrl: `${config.publicUrl}/open/${id}?action=edit`,
  };
}
