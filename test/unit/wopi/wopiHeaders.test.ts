import { validateHeaderValue, type IncomingHttpHeaders } from 'node:http';
import {
  H,
  MAX_LOCK_LENGTH,
  readHeader,
  readLockId,
  readMaxExpectedSize,
  readOptionalLockId,
  toHeaderValue,
} from '../../../connector/src/wopi/wopiHeaders.js';
import { BadRequestError } from '../../../connector/src/errors/errors.js';

/** The BadRequestError `fn` throws. */
function badRequest(fn: () => unknown): BadRequestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequestError);
    expect((e as BadRequestError).status).toBe(400);
    return e as BadRequestError;
  }
  throw new Error('expected a BadRequestError');
}

// Node lower-cases incoming header names; IncomingHttpHeaders values are string | string[] | undefined.
const headers = (h: Record<string, string | string[]>): IncomingHttpHeaders => h as IncomingHttpHeaders;

describe('readHeader', () => {
  test('absent → undefined', () => {
    expect(readHeader(headers({}), 'X-WOPI-Lock')).toBeUndefined();
  });

  test("sent empty → '' (not undefined)", () => {
    expect(readHeader(headers({ 'x-wopi-lock': '' }), 'X-WOPI-Lock')).toBe('');
  });

  test('the name is looked up case-insensitively (as Node lower-cases incoming names)', () => {
    expect(readHeader(headers({ 'x-wopi-itemversion': 'v1' }), H.itemVersion)).toBe('v1');
  });

  test('the value is returned as sent (no trimming)', () => {
    expect(readHeader(headers({ 'x-wopi-lock': ' a b ' }), 'x-wopi-lock')).toBe(' a b ');
  });

  test('a repeated header (array) → 400 bad_header', () => {
    const e = badRequest(() => readHeader(headers({ 'x-wopi-lock': ['a', 'b'] }), 'X-WOPI-Lock'));
    expect(e.code).toBe('bad_header');
    expect(e.message).toContain('X-WOPI-Lock');
  });
});

describe('readLockId', () => {
  test('returns the lock id', () => {
    expect(readLockId(headers({ 'x-wopi-lock': 'abc' }))).toBe('abc');
  });

  test('missing → 400 missing_lock', () => {
    expect(badRequest(() => readLockId(headers({}))).code).toBe('missing_lock');
  });

  test('empty → 400 missing_lock', () => {
    expect(badRequest(() => readLockId(headers({ 'x-wopi-lock': '' }))).code).toBe('missing_lock');
  });

  test('whitespace only → 400 missing_lock', () => {
    expect(badRequest(() => readLockId(headers({ 'x-wopi-lock': '   \t ' }))).code).toBe('missing_lock');
  });

  test('1024 characters is accepted verbatim', () => {
    const id = 'x'.repeat(MAX_LOCK_LENGTH);
    expect(MAX_LOCK_LENGTH).toBe(1024);
    expect(readLockId(headers({ 'x-wopi-lock': id }))).toBe(id);
  });

  test('1025 characters → 400 lock_too_long', () => {
    expect(badRequest(() => readLockId(headers({ 'x-wopi-lock': 'x'.repeat(1025) }))).code).toBe('lock_too_long');
  });

  test('reads X-WOPI-OldLock when asked', () => {
    expect(readLockId(headers({ 'x-wopi-oldlock': 'old', 'x-wopi-lock': 'new' }), H.oldLock)).toBe('old');
    expect(badRequest(() => readLockId(headers({ 'x-wopi-lock': 'new' }), H.oldLock)).message).toContain('x-wopi-oldlock');
  });

  test('a repeated lock header → 400', () => {
    badRequest(() => readLockId(headers({ 'x-wopi-lock': ['a', 'a'] })));
  });
});

describe('readOptionalLockId (PutFile)', () => {
  test("absent or '' → undefined", () => {
    expect(readOptionalLockId(headers({}))).toBeUndefined();
    expect(readOptionalLockId(headers({ 'x-wopi-lock': '' }))).toBeUndefined();
  });

  test('present → validated like readLockId', () => {
    expect(readOptionalLockId(headers({ 'x-wopi-lock': 'L' }))).toBe('L');
    expect(badRequest(() => readOptionalLockId(headers({ 'x-wopi-lock': 'x'.repeat(1025) }))).code).toBe('lock_too_long');
  });
});

describe('readMaxExpectedSize', () => {
  test('absent → 2^31-1 (spec)', () => {
    expect(readMaxExpectedSize(headers({}))).toBe(2 ** 31 - 1);
  });

  test("'' → 2^31-1", () => {
    expect(readMaxExpectedSize(headers({ 'x-wopi-maxexpectedsize': '' }))).toBe(2 ** 31 - 1);
  });

  test('a number is read (surrounding spaces tolerated)', () => {
    expect(readMaxExpectedSize(headers({ 'x-wopi-maxexpectedsize': '0' }))).toBe(0);
    expect(readMaxExpectedSize(headers({ 'x-wopi-maxexpectedsize': ' 1048576 ' }))).toBe(1048576);
    expect(readMaxExpectedSize(headers({ 'x-wopi-maxexpectedsize': '4294967296' }))).toBe(4294967296);
  });

  test.each(['abc', '-1', '1.5', '1e6', '0x10', '12abc', '99999999999999999'])('garbage %p → 400', (v) => {
    expect(badRequest(() => readMaxExpectedSize(headers({ 'x-wopi-maxexpectedsize': v }))).code).toBe('bad_header');
  });
});

describe('toHeaderValue', () => {
  const accepted = (v: string): void => {
    expect(() => validateHeaderValue('X-WOPI-LockFailureReason', v)).not.toThrow();
  };

  test('plain ASCII is unchanged', () => {
    expect(toHeaderValue('Lock mismatch')).toBe('Lock mismatch');
    expect(toHeaderValue('{"S":"a","F":1}')).toBe('{"S":"a","F":1}');
  });

  test('Latin-1 is kept (Node accepts it)', () => {
    expect(toHeaderValue('café')).toBe('café');
    accepted(toHeaderValue('café'));
  });

  test('Chinese becomes ? per character and is accepted by Node', () => {
    const v = toHeaderValue('文档 "报告".docx');
    expect(v).toBe('?? "??".docx');
    accepted(v);
  });

  test('emoji is replaced and accepted by Node', () => {
    const v = toHeaderValue('saved 😀 copy');
    expect(v).toMatch(/^saved \?+ copy$/);
    accepted(v);
  });

  test('newlines (header injection) become a space, and no CR/LF survives', () => {
    const v = toHeaderValue('a\r\nSet-Cookie: x=1\nb');
    expect(v).not.toMatch(/[\r\n]/);
    expect(v).toBe('a Set-Cookie: x=1 b');
    accepted(v);
  });

  test('NUL and other control characters are replaced and accepted by Node', () => {
    const v = toHeaderValue('a\u0000b\u0001c\u007fd\u001be');
    expect(v).toBe('a?b?c?d?e');
    accepted(v);
  });

  test('the raw inputs are indeed refused by Node (what the function protects against)', () => {
    for (const raw of ['文档', '😀', 'a\nb', 'a\u0000b']) expect(() => validateHeaderValue('X-Test', raw)).toThrow();
  });

  test('any mixture is accepted by Node', () => {
    const nasty = 'Ünïcödé 文档 😀\r\n\t\u0000\u0085\u2028\ud800 end';
    accepted(toHeaderValue(nasty));
  });
});
