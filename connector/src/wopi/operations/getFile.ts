import { PreconditionFailedError } from '../../errors/errors.js';
import { H, readMaxExpectedSize } from '../wopiHeaders.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { toWopiError } from '../storageErrors.js';

/**
 * GetFile: streams the file from the drive. The drive's status is known before 200 is sent; a file larger than
 * X-WOPI-MaxExpectedSize gets 412 before any body. A client that disconnects stops the download from the drive.
 * When the file is being edited (locked) and the token may write, the version served becomes the session's
 * baseline for detecting changes made outside the editor.
 */
export async function getFile(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  const grant = grantOf(ctx);
  const maxExpected = readMaxExpectedSize(ctx.headers);
  const info = await deps.files.resolve(grant.fileId).catch((e) => {
    throw toWopiError(e);
  });
  if (info.size > maxExpected) {
    throw new PreconditionFailedError('File is larger than X-WOPI-MaxExpectedSize', { size: info.size, maxExpected });
  }
  const abort = new AbortController();
  ctx.req.once('close', () => {
    if (!ctx.res.writableFinished) abort.abort();
  });
  const editing = grant.canWrite && (await deps.locks.get(grant.fileId)) !== null;
  const seen = editing ? await deps.versions.get(grant.fileId) : null;
  const { stream, size, version } = await deps.storage.openReadStream(info.path, { signal: abort.signal }).catch((e) => {
    throw toWopiError(e);
  });
  const served = version ?? info.version;
  // Not over a baseline that a save of the session recorded while this download started.
  if (editing) await deps.versions.setIfUnchanged(grant.fileId, seen, served);
  ctx.status = 200;
  ctx.set('Content-Type', 'application/octet-stream');
  ctx.set(H.itemVersion, served);
  // The drive's own Content-Length describes the bytes we relay; without one the answer is chunked.
  if (size !== null) ctx.length = size;
  ctx.state.bytes = size ?? info.size;
  stream.on('error', (e) => ctx.state.log.warn({ err: e }, 'download from drive failed mid-stream'));
  ctx.body = stream;
}
