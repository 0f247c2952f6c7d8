/**
 * Typed errors. Operations throw these; `errorMiddleware` is the only place that turns them into responses.
 * Each carries the HTTP status, a stable snake_case `code`, the headers the client must see and a log-only `detail`.
 */
const BRAND = Symbol.for('wopi-bridge.WopiError');

export interface WopiErrorOptions {
  headers?: Record<string, string>;
  detail?: Record<string, unknown>;
  cause?: unknown;
}

/** Base class of every error that maps to a WOPI response. */
export class WopiError extends Error {
  readonly [BRAND] = true;
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly detail: Record<string, unknown>;
  /** One short line safe to show the client (4xx only; 5xx bodies never echo internals). */
  readonly publicMessage: string;

  constructor(status: number, code: string, message: string, options: WopiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.detail = options.detail ?? {};
    this.publicMessage = message;
  }
}

/** Brand check that works across module realms, unlike `instanceof` (koa#1466). */
export function isWopiError(e: unknown): e is WopiError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** 401: token missing, bad signature, expired, issued for another file, or lacking the permission asked for. */
export class InvalidTokenError extends WopiError {
  constructor(reason: string, detail: Record<string, unknown> = {}) {
    super(401, 'invalid_token', 'Invalid access token', { detail: { reason, ...detail } });
  }
}

/** 404: unknown file, or one the user may not see (WOPI treats both alike). */
export class FileNotFoundError extends WopiError {
  constructor(detail: Record<string, unknown> = {}) {
    super(404, 'file_not_found', 'File not found', { detail });
  }
}

/** 400: a request the client got wrong (missing lock header, bad value). */
export class BadRequestError extends WopiError {
  constructor(message: string, code = 'bad_request', options: WopiErrorOptions = {}) {
    super(400, code, message, options);
  }
}

/**
 * 409: lock mismatch, or a save that could not be applied. Always carries `X-WOPI-Lock` with the current lock
 * ('' when unlocked) and a reason, as MS-WOPI requires for every 409.
 */
export class LockConflictError extends WopiError {
  constructor(currentLock: string | null, reason: string, options: { otherInterface?: boolean; code?: string; detail?: Record<string, unknown> } = {}) {
    const headers: Record<string, string> = {
      'X-WOPI-Lock': currentLock ?? '',
      'X-WOPI-LockFailureReason': reason,
    };
    if (options.otherInterface) headers['X-WOPI-LockedByOtherInterface'] = 'true';
    super(409, options.code ?? 'lock_mismatch', reason, { headers, detail: options.detail ?? {} });
  }
}

/** 412: GetFile larger than X-WOPI-MaxExpectedSize. */
export class PreconditionFailedError extends WopiError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super(412, 'too_large_for_client', message, { detail });
  }
}

/** 413: PutFile body above the configured limit. */
export class PayloadTooLargeError extends WopiError {
  constructor(limit: number) {
    super(413, 'payload_too_large', `File is larger than the limit of ${limit} bytes`, { detail: { limit } });
  }
}

/** 400: a RenameFile / PutRelativeFile name the drive cannot hold; the reason goes to X-WOPI-InvalidFileNameError. */
export class InvalidFileNameError extends WopiError {
  constructor(reason: string, extraHeaders: Record<string, string> = {}) {
    super(400, 'invalid_file_name', reason, { headers: { 'X-WOPI-InvalidFileNameError': reason, ...extraHeaders } });
  }
}

/** 409 for a PutRelativeFile target that exists (and may not be overwritten), with a usable alternative name. */
export class TargetExistsError extends WopiError {
  constructor(headers: Record<string, string>) {
    super(409, 'target_exists', 'A file with that name exists', { headers: { 'X-WOPI-Lock': '', ...headers } });
  }
}

/** 501: an X-WOPI-Override this host does not implement. */
export class NotImplementedError extends WopiError {
  constructor(what: string) {
    super(501, 'not_implemented', `Not implemented: ${what}`);
  }
}

/** 500: the drive is down, slow, answered 5xx, or rejected our own credentials. */
export class StorageUnavailableError extends WopiError {
  constructor(detail: Record<string, unknown> = {}, cause?: unknown) {
    super(500, 'storage_unavailable', 'Storage unavailable', { detail, cause });
  }
}

/** 500: the bridge's own state store (locks, ids) failed; WOPI operations fail closed. */
export class StateStoreError extends WopiError {
  constructor(detail: Record<string, unknown> = {}, cause?: unknown) {
    super(500, 'state_store_unavailable', 'State store unavailable', { detail, cause });
  }
}

/** 408: the client stopped sending its request body for longer than BODY_IDLE_TIMEOUT_MS (or REQUEST_TIMEOUT_MS passed). */
export class RequestTimeoutError extends WopiError {
  constructor(detail: Record<string, unknown> = {}) {
    super(408, 'body_timeout', 'The request body stopped arriving', { headers: { Connection: 'close' }, detail });
  }
}

/**
 * 499 (nginx's "client closed request"): the client disconnected before its request was read or answered. Never
 * sent (nobody is there to read it); it names the outcome in the access line and the metrics, so a 404 still means a
 * missing file.
 */
export class ClientGoneError extends WopiError {
  constructor(detail: Record<string, unknown> = {}, cause?: unknown) {
    super(499, 'client_gone', 'Client closed the request', { detail, cause });
  }
}
