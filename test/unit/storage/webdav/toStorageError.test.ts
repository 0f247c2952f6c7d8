import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSabreError, toStorageError } from '../../../../connector/src/storage/webdav/toStorageError.js';
import { StorageError, VersionMismatchError } from '../../../../connector/src/storage/StorageAdapter.js';
import { fixturesDir } from '../../../helpers/sharedDir.js';

const FIXTURES = fixturesDir('nextcloud');

/** The response body of a capture (after the blank line following the response status line). */
function responseBody(name: string): string {
  const raw = readFileSync(path.join(FIXTURES, name), 'utf8');
  const status = /\r\nHTTP\/1\.[01] \d{3}[^\r\n]*\r\n/.exec(raw);
  if (!status) throw new Error(`${name}: no response status line`);
  return raw.slice(raw.indexOf('\r\n\r\n', status.index + 2) + 4);
}

/** What the webdav client throws for an HTTP error status. */
const httpError = (status: number): Error & { status: number } => Object.assign(new Error(`Invalid response: ${status}`), { status });

describe('parseSabreError on real Nextcloud error bodies', () => {
  test.each([
    [
      'a-put-overwrite-if-match-stale-412.http',
      'Sabre\\DAV\\Exception\\PreconditionFailed',
      'An If-Match header was specified, but none of the specified ETags matched.',
    ],
    ['a-get-deleted-404.http', 'Sabre\\DAV\\Exception\\NotFound', 'File with name /Docs/copy.docx could not be located'],
    ['e-propfind-missing-404.http', 'Sabre\\DAV\\Exception\\NotFound', 'File with name //missing.docx could not be located'],
    [
      'd-get-encrypted-file-app-disabled.http',
      'Sabre\\DAV\\Exception\\ServiceUnavailable',
      'Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist.',
    ],
    ['a-put-over-quota-507.http', 'Sabre\\DAV\\Exception\\InsufficientStorage', 'Insufficient space in /Docs/big.docx, 4040 required, 962 available'],
    ['a-put-while-being-read-423.http', 'OCA\\DAV\\Connector\\Sabre\\Exception\\FileLocked', '"/Docs/locked.docx" is locked'],
  ])('%s', (file, exception, message) => {
    expect(parseSabreError(responseBody(file))).toEqual({ exception, message });
  });

  test('XML entities in the message are decoded once', () => {
    const body = '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:exception>X</s:exception><s:message>a &lt;b&gt; &amp;lt; &quot;c&quot;</s:message></d:error>';
    expect(parseSabreError(body)).toEqual({ exception: 'X', message: 'a <b> &lt; "c"' });
  });

  test('a very long message is cut to 500 characters', () => {
    const body = `<d:error xmlns:d="DAV:"><s:message>${'m'.repeat(2000)}</s:message></d:error>`;
    expect(parseSabreError(body)?.message).toHaveLength(500);
  });

  test('an error body without exception/message gives nulls', () => {
    expect(parseSabreError('<d:error xmlns:d="DAV:"></d:error>')).toEqual({ exception: null, message: null });
  });

  test.each([
    ['empty', ''],
    ['HTML', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['a multistatus', '<d:multistatus xmlns:d="DAV:"></d:multistatus>'],
    ['plain text', 'Internal Server Error'],
  ])('not a Sabre error (%s) → null', (_what, body) => {
    expect(parseSabreError(body)).toBeNull();
  });
});

describe('toStorageError classifies by status', () => {
  test.each([
    [404, 'not_found'],
    [410, 'not_found'],
    [403, 'forbidden'],
    [400, 'forbidden'],
    [409, 'conflict'],
    [412, 'conflict'],
    [423, 'locked'],
    [507, 'insufficient_storage'],
    [500, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
  ] as const)('%i → %s', (status, kind) => {
    const cause = httpError(status);
    const e = toStorageError(cause, { op: 'stat', path: '/a.docx' });
    expect(e).toBeInstanceOf(StorageError);
    expect(e.kind).toBe(kind);
    expect(e.detail).toMatchObject({ op: 'stat', path: '/a.docx', status });
    expect(e.cause).toBe(cause);
  });

  test('401 (our credentials refused) → unavailable with detail.auth, not a user-facing 401', () => {
    const e = toStorageError(httpError(401), { op: 'stat' });
    expect(e.kind).toBe('unavailable');
    expect(e.detail.auth).toBe(true);
    expect(e.detail.status).toBe(401);
  });

  test('5xx message says which status the drive answered', () => {
    expect(toStorageError(httpError(503), {}).message).toContain('503');
  });

  test('a network error (ECONNREFUSED, no status) → unavailable with detail.network', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const e = toStorageError(cause, { op: 'get' });
    expect(e.kind).toBe('unavailable');
    expect(e.detail.network).toBe('ECONNREFUSED');
    expect(e.detail).not.toHaveProperty('status');
  });

  test('classification never looks at the message text', () => {
    const e = toStorageError(Object.assign(new Error('404 Not Found'), { code: 'ECONNRESET' }), {});
    expect(e.kind).toBe('unavailable');
    expect(toStorageError(new Error('Invalid response: 404 Not Found'), {}).kind).toBe('unavailable');
  });

  test("reason 'timeout' (no status) → unavailable with detail.timeout", () => {
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    const e = toStorageError(abort, { op: 'put' }, 'timeout');
    expect(e.kind).toBe('unavailable');
    expect(e.detail.timeout).toBe(true);
  });

  test("reason 'client_gone' (no status) → aborted", () => {
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(toStorageError(abort, { op: 'put' }, 'client_gone').kind).toBe('aborted');
  });

  test('an HTTP status wins over the reason (the drive did answer)', () => {
    expect(toStorageError(httpError(412), {}, 'timeout').kind).toBe('conflict');
  });

  test('a StorageError passes through unchanged (incl. VersionMismatchError)', () => {
    const s = new StorageError('locked', 'x');
    expect(toStorageError(s, {})).toBe(s);
    const v = new VersionMismatchError('e2', null);
    expect(toStorageError(v, {})).toBe(v);
  });

  test('non-Error throws (undefined, a string) → unavailable, not a crash', () => {
    expect(toStorageError(undefined, {}).kind).toBe('unavailable');
    expect(toStorageError('boom', {}).kind).toBe('unavailable');
    expect(toStorageError(null, {}).detail.network).toBe('error');
  });

  test("the Sabre exception and message go to the log detail (from the 503 capture)", () => {
    const sabre = parseSabreError(responseBody('d-get-encrypted-file-app-disabled.http'));
    const e = toStorageError(httpError(503), { op: 'get' }, undefined, sabre);
    expect(e.kind).toBe('unavailable');
    expect(e.detail).toMatchObject({
      op: 'get',
      status: 503,
      exception: 'Sabre\\DAV\\Exception\\ServiceUnavailable',
      message: 'Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist.',
    });
  });
});
