import { splitExtension, splitPath } from '../../storage/StorageAdapter.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { toWopiError } from '../storageErrors.js';
import { USER_INFO_NS } from './putUserInfo.js';

/** Longest base name (without extension) RenameFile accepts; most drives allow 255 bytes in total. */
export const FILE_NAME_MAX_LENGTH = 200;

/**
 * CheckFileInfo: the file's properties and what the user may do. Every field DS reads (reference §1.6) is set,
 * none is null; Version and LastModifiedTime are deterministic strings for an unchanged file (DS compares them
 * as strings to decide whether its cache is still valid).
 */
export async function checkFileInfo(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  const grant = grantOf(ctx);
  const info = await deps.files.resolve(grant.fileId).catch((e) => {
    throw toWopiError(e);
  });
  const canWrite = grant.canWrite && info.permissions.canWrite;
  const [, ext] = splitExtension(info.name);
  const folder = splitPath(info.path).folder;
  const folderUrl = folder === '/' ? `${deps.config.publicUrl}/` : `${deps.config.publicUrl}/?path=${encodeURIComponent(folder)}`;
  const userInfo = await deps.state.get(USER_INFO_NS, grant.userId);
  ctx.set('Content-Type', 'application/json; charset=utf-8');
  ctx.body = {
    BaseFileName: info.name,
    FileExtension: ext,
    OwnerId: deps.config.storage.username ?? 'drive',
    UserId: grant.userId,
    UserFriendlyName: grant.userName,
    IsAnonymousUser: false,
    Size: info.size,
    Version: info.version,
    LastModifiedTime: info.lastModified.toISOString(),
    UserCanWrite: canWrite,
    ReadOnly: !canWrite,
    UserCanNotWriteRelative: !grant.canWrite,
    UserCanRename: canWrite && info.permissions.canRename,
    SupportsRename: true,
    SupportsDeleteFile: true,
    SupportsLocks: true,
    SupportsGetLock: true,
    SupportsExtendedLockLength: true,
    SupportsUpdate: true,
    SupportsUserInfo: true,
    ...(userInfo !== null ? { UserInfo: userInfo } : {}),
    FileNameMaxLength: FILE_NAME_MAX_LENGTH,
    PostMessageOrigin: deps.config.postMessageOrigin,
    // Both lead back to the file list, at the file's folder (the pages' `/?path=`).
    CloseUrl: folderUrl,
    BreadcrumbBrandName: 'wopi-bridge',
    BreadcrumbBrandUrl: `${deps.config.publicUrl}/`,
    BreadcrumbFolderName: folder === '/' ? 'Home' : splitPath(folder).name,
    BreadcrumbFolderUrl: folderUrl,
  };
}
