/**
 * Errors of the admin API. Like every other error they are written by `errorMiddleware` (one short text line; the
 * status and the headers are what the page acts on), and each carries a stable snake_case code for logs and tests.
 */
import { WopiError } from '../errors/errors.js';

/** 401: no admin session (cookie missing, unknown, expired or revoked). */
export class NotSignedInError extends WopiError {
  constructor() {
    super(401, 'admin_not_signed_in', 'Sign in first');
  }
}

/** 401: the admin password given to /admin/api/login is wrong. */
export class WrongPasswordError extends WopiError {
  constructor() {
    super(401, 'admin_wrong_password', 'Wrong password');
  }
}

/** 429: too many failed sign-ins from this address; `Retry-After` says when to try again. */
export class TooManySignInsError extends WopiError {
  constructor(retryAfterSeconds: number) {
    super(429, 'admin_sign_in_rate_limited', 'Too many failed sign-ins; try again later', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
      detail: { retryAfterSeconds },
    });
  }
}

/** 403: a state-changing request without the session's CSRF token, or from another site's page. */
export class CsrfRejectedError extends WopiError {
  constructor(reason: 'csrf_token_missing' | 'csrf_token_wrong' | 'cross_origin') {
    super(403, 'admin_csrf_rejected', reason === 'cross_origin' ? 'Cross-site request refused' : 'Missing or wrong X-CSRF-Token', { detail: { reason } });
  }
}

/** 400 / 413 / 415: a request body the admin API cannot use. */
export class AdminBadRequestError extends WopiError {
  constructor(status: 400 | 413 | 415, message: string) {
    super(status, status === 413 ? 'admin_body_too_large' : status === 415 ? 'admin_body_not_json' : 'admin_bad_request', message);
  }
}

/** 404: no such admin route or asset. */
export class AdminNotFoundError extends WopiError {
  constructor() {
    super(404, 'admin_not_found', 'Not found');
  }
}

/** 409: the settings file in the data folder cannot be read; its problems (never values) are in the log detail. */
export class SettingsFileError extends WopiError {
  constructor(problems: readonly string[]) {
    super(409, 'settings_file_invalid', `The settings file cannot be used: ${problems.join('; ')}`.slice(0, 500), { detail: { problems } });
  }
}
