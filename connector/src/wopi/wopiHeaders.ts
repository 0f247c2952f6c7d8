import type { IncomingHttpHeaders } from 'node:http';
import { BadRequestError } from '../errors/errors.js';

/** WOPI header names, defined once. */
export const H = {
  override: 'x-wopi-override',
  lock: 'x-wopi-lock',
  oldLock: 'x-wopi-oldlock',
  itemVersion: 'X-WOPI-ItemVersion',
  maxExpectedSize: 'x-wopi-maxexpectedsize',
  editors: 'x-wopi-editors',
  loolTimestamp: 'x-lool-wopi-timestamp',
  coolTimestamp: 'x-cool-wopi-timestamp',
  isExitSave: 'x-lool-wopi-isexitsave',
  isAutosave: 'x-lool-wopi-isautosave',
  suggestedTarget: 'x-wopi-suggestedtarget',
  relativeTarget: 'x-wopi-relativetarget',
  overwriteRelativeTarget: 'x-wopi-overwriterelativetarget',
  fileConversion: 'x-wopi-fileconversion',
  requestedName: 'x-wopi-requestedname',
  invalidFileNameError: 'X-WOPI-InvalidFileNameError',
  validRelativeTarget: 'X-WOPI-ValidRelativeTarget',
} as const;

/** A WOPI boolean header ('true'/'false', any case); absent = false. */
export function readBoolHeader(headers: IncomingHttpHeaders, name: string): boolean {
  return (readHeader(headers, name) ?? '').trim().toLowerCase() === 'true';
}

/** Longest lock id the spec allows (SupportsExtendedLockLength). */
export const MAX_LOCK_LENGTH = 1024;

/**
 * A header's value: undefined when absent, '' when sent empty. Repeated headers are refused.
 * @throws BadRequestError when the header was sent more than once
 */
export function readHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  if (Array.isArray(v)) throw new BadRequestError(`Header ${name} sent more than once`, 'bad_header');
  return v;
}

/**
 * The X-WOPI-Lock (or X-WOPI-OldLock) value for lock operations: required, non-empty, at most 1024 characters.
 * @throws BadRequestError when missing, empty or too long
 */
export function readLockId(headers: IncomingHttpHeaders, name: string = H.lock): string {
  const v = readHeader(headers, name);
  if (v === undefined || v.trim() === '') throw new BadRequestError(`Missing ${name}`, 'missing_lock');
  if (v.length > MAX_LOCK_LENGTH) throw new BadRequestError(`${name} longer than ${MAX_LOCK_LENGTH} characters`, 'lock_too_long');
  return v;
}

/** An optional lock id (PutFile): undefined when absent; validated like readLockId when present. */
export function readOptionalLockId(headers: IncomingHttpHeaders): string | undefined {
  const v = readHeader(headers, H.lock);
  if (v === undefined || v === '') return undefined;
  return readLockId(headers);
}

/**
 * X-WOPI-MaxExpectedSize as a number; absent means the int32 maximum (spec).
 * @throws BadRequestError when not a non-negative integer
 */
export function readMaxExpectedSize(headers: IncomingHttpHeaders): number {
  const v = readHeader(headers, H.maxExpectedSize);
  if (v === undefined || v === '') return 2 ** 31 - 1;
  if (!/^\d{1,16}$/.test(v.trim())) throw new BadRequestError('X-WOPI-MaxExpectedSize must be a whole number', 'bad_header');
  return Number(v.trim());
}

/**
 * A string safe to put in a response header: Node throws ERR_INVALID_CHAR on control characters and on
 * code points above 255, which lock ids, file names and reasons may hold. Those become '?', newlines a space.
 */
export function toHeaderValue(v: string): string {
  return v.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e\x80-\xff]/g, '?');
}

/** Headers whose repetition makes a request ambiguous (Node joins repeated values with ", "). */
const SINGLE_VALUED = [H.override, H.lock, H.oldLock, H.maxExpectedSize, H.loolTimestamp, H.suggestedTarget, H.relativeTarget, H.requestedName, H.overwriteRelativeTarget];

/**
 * Refuses a request that repeats a WOPI header: "X-WOPI-Lock: a" twice reaches handlers as "a, a".
 * @param distinct the request's headersDistinct
 * @throws BadRequestError naming the header
 */
export function assertSingleValued(distinct: Record<string, string[] | undefined>): void {
  for (const name of SINGLE_VALUED) {
    if ((distinct[name]?.length ?? 0) > 1) throw new BadRequestError(`Header ${name} sent more than once`, 'bad_header');
  }
}
