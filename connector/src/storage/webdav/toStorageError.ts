import { StorageError } from '../StorageAdapter.js';

interface HttpishError {
  status?: number;
  name?: string;
  code?: string;
  type?: string;
}

/**
 * Classifies a failure of a WebDAV request by its HTTP status (webdav-client sets `status`), never by message text.
 * @param e what the request threw
 * @param context operation and path, for the log only
 * @param reason why a signal fired: 'timeout' (ours) or 'client_gone' (the WOPI client disconnected)
 */
export function toStorageError(e: unknown, context: Record<string, unknown>, reason?: 'timeout' | 'client_gone', sabre?: SabreError | null): StorageError {
  if (e instanceof StorageError) return e;
  const err = (e ?? {}) as HttpishError;
  const detail: Record<string, unknown> = { ...context };
  if (sabre) Object.assign(detail, { exception: sabre.exception, message: sabre.message });
  const status = typeof err.status === 'number' ? err.status : undefined;
  if (status !== undefined) {
    detail.status = status;
    if (status === 404 || status === 410) return new StorageError('not_found', 'Not found on the drive', detail, { cause: e });
    if (status === 403 || status === 400) return new StorageError('forbidden', 'The drive refused the request', detail, { cause: e });
    if (status === 409 || status === 412) return new StorageError('conflict', 'The drive reported a conflict', detail, { cause: e });
    if (status === 423) return new StorageError('locked', 'Locked on the drive', detail, { cause: e });
    if (status === 507) return new StorageError('insufficient_storage', 'The drive is out of space', detail, { cause: e });
    if (status === 401) return new StorageError('unavailable', 'The drive rejected the bridge\'s credentials', { ...detail, auth: true }, { cause: e });
    return new StorageError('unavailable', `The drive answered ${status}`, detail, { cause: e });
  }
  const isAbort = err.name === 'AbortError' || err.type === 'aborted';
  if (reason === 'client_gone' && isAbort) return new StorageError('aborted', 'Client went away', detail, { cause: e });
  if (reason === 'timeout' && isAbort) return new StorageError('unavailable', 'The drive did not answer in time', { ...detail, timeout: true }, { cause: e });
  detail.network = err.code ?? err.type ?? err.name ?? 'error';
  return new StorageError('unavailable', 'The drive cannot be reached', detail, { cause: e });
}

/** The exception class and message of a Sabre (Nextcloud/ownCloud) XML error body. */
export interface SabreError {
  exception: string | null;
  message: string | null;
}

/** Extracts `s:exception` and `s:message` from a Sabre `d:error` body; null when the body is not one. */
export function parseSabreError(body: string): SabreError | null {
  if (!/<[a-z]*:?error\b/i.test(body)) return null;
  const pick = (tag: string): string | null => {
    const m = new RegExp(`<(?:[A-Za-z0-9]+:)?${tag}>([\\s\\S]*?)</(?:[A-Za-z0-9]+:)?${tag}>`).exec(body);
    return m?.[1] ? decodeXmlText(m[1]).trim().slice(0, 500) : null;
  };
  return { exception: pick('exception'), message: pick('message') };
}

function decodeXmlText(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
