import path from 'node:path';
import { BadRequestError, InvalidFileNameError, LockConflictError, NotImplementedError, PayloadTooLargeError, TargetExistsError } from '../../errors/errors.js';
import { StorageError, joinPath, splitExtension, splitPath, type FileInfo } from '../../storage/StorageAdapter.js';
import { H, readBoolHeader, readHeader } from '../wopiHeaders.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { toWopiError } from '../storageErrors.js';
import { declaredLength, limitedBody, spoolBody, type Spool } from '../requestBody.js';
import { decodeUtf7, encodeUtf7, fileNameProblem, sanitizeFileName } from '../fileNames.js';
import { fileUrls } from '../hostUrls.js';

/**
 * PutRelativeFile: creates a new file beside the source from the body (Save As, forms, convert-and-edit).
 * Suggested mode (X-WOPI-SuggestedTarget) never fails for a name: it keeps the extension, turns a bare extension
 * into "same name, that extension" and picks a free name. Relative mode (X-WOPI-RelativeTarget) uses the name as
 * given: 400 for an illegal one, 409 when it exists unless X-WOPI-OverwriteRelativeTarget allows it (and never over
 * a locked file). X-WOPI-FileConversion (DS's convert flow) writes next to the source like any other. Answers
 * Name, Url (WOPISrc + a new token), HostViewUrl and HostEditUrl.
 */
export async function putRelativeFile(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  const grant = grantOf(ctx);
  if (!grant.canWrite) throw new NotImplementedError('PutRelativeFile with a view-only token');
  const suggested = readHeader(ctx.headers, H.suggestedTarget);
  const relative = readHeader(ctx.headers, H.relativeTarget);
  if ((suggested === undefined) === (relative === undefined)) {
    throw new BadRequestError('Send exactly one of X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget', 'bad_target_headers');
  }
  const overwrite = readBoolHeader(ctx.headers, H.overwriteRelativeTarget);
  const conversion = readBoolHeader(ctx.headers, H.fileConversion);
  const declared = declaredLength(ctx.headers);
  const limit = deps.config.maxUploadBytes;
  if (declared !== null && declared > limit) throw new PayloadTooLargeError(limit);

  const source = await deps.files.resolve(grant.fileId).catch((e) => {
    throw toWopiError(e);
  });
  const folder = splitPath(source.path).folder;
  const [sourceBase] = splitExtension(source.name);

  let spool: Spool | null = null;
  try {
    if (declared === null) spool = await spoolBody(ctx.req, path.join(deps.config.dataDir, 'tmp'), limit, null);
    const length = spool?.size ?? (declared as number);
    const body = () => spool?.open() ?? limitedBody(ctx.req, limit, declared);

    let created: FileInfo;
    if (suggested !== undefined) {
      const wanted = decodeUtf7(suggested);
      const name = sanitizeFileName(wanted.startsWith('.') ? `${sourceBase}${wanted}` : wanted, `${sourceBase} copy${splitExtension(source.name)[1]}`);
      created = await deps.storage.createUnique(folder, name, body(), length).catch((e) => {
        throw toWopiError(e);
      });
    } else {
      const name = decodeUtf7(relative as string);
      const problem = fileNameProblem(name);
      if (problem !== null) {
        throw new InvalidFileNameError(problem, { [H.validRelativeTarget]: encodeUtf7(sanitizeFileName(name, `${sourceBase} copy`)) });
      }
      const target = joinPath(folder, name);
      const existing = await deps.storage.stat(target).catch((e: unknown) => {
        if (e instanceof StorageError && e.kind === 'not_found') return null;
        throw toWopiError(e);
      });
      if (existing !== null) {
        if (existing.isDirectory) throw new InvalidFileNameError('A folder has that name');
        const targetId = await deps.files.idFor(existing);
        const targetLock = await deps.locks.get(targetId);
        if (targetLock !== null) throw new LockConflictError(targetLock.id, 'The target file is locked');
        if (!overwrite) {
          const [b, e] = splitExtension(name);
          throw new TargetExistsError({ [H.validRelativeTarget]: encodeUtf7(`${b} (2)${e}`), 'X-WOPI-LockFailureReason': 'A file with that name exists' });
        }
        created = await deps.storage.writeStream(target, body(), { contentLength: length }).catch((e) => {
          throw toWopiError(e);
        });
      } else {
        created = await deps.storage.createUnique(folder, name, body(), length).catch((e) => {
          throw toWopiError(e);
        });
      }
    }
    const id = await deps.files.idFor(created);
    ctx.state.result = conversion ? 'converted' : 'created';
    ctx.state.bytes = length;
    ctx.set('Content-Type', 'application/json; charset=utf-8');
    ctx.body = { Name: created.name, ...fileUrls(deps.config, id, grant) };
  } finally {
    await spool?.dispose();
  }
}
