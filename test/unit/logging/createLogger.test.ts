import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { createLogger, serializeRequest, stripQuery } from '../../../connector/src/logging/createLogger.js';

/** A sink collecting the JSON lines the logger writes. */
function sink(): { stream: Writable; lines: () => string[]; records: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const lines = (): string[] =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '');
  return { stream, lines, records: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const TOKEN = 'SECRETTOKENabc.def-ghi';
const AUTH = 'Basic YWxpY2U6c2VjcmV0LXB3';
const PROOF = 'PROOFVALUE+/=123';

function fakeRequest(): IncomingMessage {
  return {
    method: 'POST',
    url: `/wopi/files/x?access_token=${TOKEN}&access_token_ttl=0`,
    headers: {
      host: 'bridge.example.com',
      authorization: AUTH,
      'x-wopi-proof': PROOF,
      'x-wopi-proofold': `${PROOF}old`,
      cookie: `session=${TOKEN}`,
      'x-wopi-override': 'PUT',
      'x-wopi-lock': 'lock-1',
      'user-agent': 'ONLYOFFICE',
      'content-length': '14',
    },
  } as unknown as IncomingMessage;
}

describe('createLogger', () => {
  test('a log call with { req } writes neither the token, nor "access_token", nor auth/proof headers', () => {
    const s = sink();
    const log = createLogger('info', s.stream);
    log.info({ req: fakeRequest() }, 'request');
    const out = s.lines().join('\n');
    expect(s.lines()).toHaveLength(1);
    expect(out).not.toContain('SECRET');
    expect(out).not.toContain('access_token');
    expect(out).not.toContain(AUTH);
    expect(out).not.toContain('YWxpY2U6c2VjcmV0LXB3');
    expect(out).not.toContain(PROOF);
    expect(out).not.toContain('session=');
    // What is useful stays: method, path without the query, allow-listed headers.
    const rec = s.records()[0] as { req: { method: string; path: string; headers: Record<string, string> }; msg: string };
    expect(rec.msg).toBe('request');
    expect(rec.req.method).toBe('POST');
    expect(rec.req.path).toBe('/wopi/files/x');
    expect(rec.req.headers).toEqual({ 'x-wopi-override': 'PUT', 'user-agent': 'ONLYOFFICE', 'content-length': '14' });
  });

  test('password, secret, accessToken and nested storage.password are redacted', () => {
    const s = sink();
    const log = createLogger('info', s.stream);
    log.info({ password: 'p-value', secret: 's-value', accessToken: 't-value', access_token: 'u-value', token: 'v-value', storage: { password: 'x-value', url: 'https://cloud' } }, 'config');
    const out = s.lines().join('\n');
    for (const v of ['p-value', 's-value', 't-value', 'u-value', 'v-value', 'x-value']) expect(out).not.toContain(v);
    const rec = s.records()[0] as Record<string, unknown> & { storage: Record<string, unknown> };
    expect(rec.password).toBe('[redacted]');
    expect(rec.secret).toBe('[redacted]');
    expect(rec.accessToken).toBe('[redacted]');
    expect(rec.storage.password).toBe('[redacted]');
    // Non-secret fields are kept.
    expect(rec.storage.url).toBe('https://cloud');
  });

  test('a nested secret / accessToken one level down is redacted', () => {
    const s = sink();
    createLogger('info', s.stream).info({ tokens: { secret: 'deep-secret' }, grant: { accessToken: 'deep-token' } }, 'x');
    const out = s.lines().join('\n');
    expect(out).not.toContain('deep-secret');
    expect(out).not.toContain('deep-token');
  });

  test('raw headers objects have authorization and proof headers redacted', () => {
    const s = sink();
    createLogger('info', s.stream).info({ headers: { authorization: AUTH, 'x-wopi-proof': PROOF, 'x-wopi-proofold': PROOF, accept: '*/*' } }, 'x');
    const out = s.lines().join('\n');
    expect(out).not.toContain(AUTH);
    expect(out).not.toContain(PROOF);
    expect(out).toContain('*/*');
  });

  test('a child logger keeps the redaction', () => {
    const s = sink();
    const child = createLogger('info', s.stream).child({ reqId: 'r1' });
    child.warn({ req: fakeRequest(), password: 'child-pw' }, 'child');
    const out = s.lines().join('\n');
    expect(out).not.toContain('SECRET');
    expect(out).not.toContain('child-pw');
    expect(out).toContain('r1');
  });

  test('the level is honoured: debug lines are dropped at info, kept at debug', () => {
    const a = sink();
    createLogger('info', a.stream).debug('hidden');
    expect(a.lines()).toEqual([]);
    const b = sink();
    createLogger('debug', b.stream).debug('shown');
    expect(b.records()[0]?.msg).toBe('shown');
  });

  test('errors are serialized with message and stack', () => {
    const s = sink();
    createLogger('info', s.stream).error({ err: new Error('drive down') }, 'failed');
    const rec = s.records()[0] as { err: { message: string; stack: string; type: string } };
    expect(rec.err.message).toBe('drive down');
    expect(rec.err.type).toBe('Error');
    expect(rec.err.stack).toContain('drive down');
  });
});

describe('serializeRequest / stripQuery', () => {
  test('stripQuery drops everything from the first ?', () => {
    expect(stripQuery('/wopi/files/x?access_token=a?b')).toBe('/wopi/files/x');
    expect(stripQuery('/wopi/files/x')).toBe('/wopi/files/x');
    expect(stripQuery('')).toBe('');
  });

  test('serializeRequest copies only allow-listed headers', () => {
    const r = serializeRequest(fakeRequest());
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    expect(Object.keys(r.headers as object).sort()).toEqual(['content-length', 'user-agent', 'x-wopi-override']);
  });
});
