/**
 * classifyTransportError on the error codes Node, OpenSSL and axios produce (the integration tests produce the
 * common ones for real; here every code the classifier knows, without network).
 */
import { classifyTransportError, errorCode, formatMs, hostPort, transportKindOf, type TransportKind } from '../../../connector/src/checks/classifyTransportError.js';
import { classifyNetworkError } from '../../../connector/src/checks/drive/http.js';

const URL_ = 'https://docs.example.com/healthcheck';

function err(code: string, message = `${code} happened`, wrapped = false): Error {
  const inner = Object.assign(new Error(message), { code });
  return wrapped ? Object.assign(new Error(message), { code: 'ERR_NETWORK', cause: inner }) : inner;
}

describe('classifyTransportError', () => {
  test.each<[string, TransportKind]>([
    ['ECONNABORTED', 'timeout'],
    ['ETIMEDOUT', 'timeout'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['ECONNREFUSED', 'refused'],
    ['EHOSTUNREACH', 'unreachable'],
    ['ENETUNREACH', 'unreachable'],
    ['ECONNRESET', 'reset'],
    ['EPIPE', 'reset'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls_self_signed'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls_self_signed'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls_untrusted'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls_untrusted'],
    ['CERT_HAS_EXPIRED', 'tls_expired'],
    ['CERT_NOT_YET_VALID', 'tls_not_yet_valid'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls_hostname'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls_not_tls'],
    ['CERT_REVOKED', 'tls_other'],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'tls_other'],
    ['HPE_INVALID_CONSTANT', 'not_http'],
    ['ERR_FR_MAX_BODY_LENGTH_EXCEEDED', 'too_large'],
    ['ERR_INVALID_URL', 'bad_url'],
    ['EWHATEVER', 'other'],
  ])('%s → %s', (code, kind) => {
    const f = classifyTransportError(err(code), { url: URL_ });
    expect(f.kind).toBe(kind);
    expect(f.code).toBe(code);
    expect(f.summary.length).toBeGreaterThan(20);
    expect(f.fix.length).toBeGreaterThan(20);
  });

  test('the code is found on the cause when axios wraps the error', () => {
    expect(classifyTransportError(err('CERT_HAS_EXPIRED', 'certificate has expired', true), { url: URL_ }).kind).toBe('tls_expired');
    expect(errorCode(err('ECONNREFUSED', 'x', true))).toBe('ECONNREFUSED');
  });

  test('EPROTO with OpenSSL\'s "wrong version number" = https:// to a plain-HTTP port; other EPROTO = TLS failure', () => {
    const wrong = err('EPROTO', 'write EPROTO 80EC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number');
    expect(classifyTransportError(wrong, { url: URL_ })).toMatchObject({ kind: 'tls_not_tls', code: 'EPROTO' });
    expect(classifyTransportError(err('EPROTO', 'sslv3 alert handshake failure'), { url: URL_ }).kind).toBe('tls_other');
  });

  test('"socket hang up" without a code is a reset, and suggests https://', () => {
    const f = classifyTransportError(new Error('socket hang up'), { url: 'http://ds:443/healthcheck' });
    expect(f.kind).toBe('reset');
    expect(f.fix).toMatch(/use https:\/\//);
  });

  test('the deadline wins over the code it produced (axios reports ERR_CANCELED)', () => {
    const f = classifyTransportError(err('ERR_CANCELED', 'canceled'), { url: URL_, timedOut: true, timeoutMs: 1500 });
    expect(f).toMatchObject({ kind: 'timeout' });
    expect(f.summary).toBe('No answer from docs.example.com:443 within 1.5 s (timeout): the connection or the answer never came.');
  });

  test('a cancelled run is "aborted", not a timeout', () => {
    expect(classifyTransportError(err('ERR_CANCELED', 'canceled'), { url: URL_, aborted: true }).kind).toBe('aborted');
  });

  test('messages name host and port and the setting to change', () => {
    const f = classifyTransportError(err('ECONNREFUSED'), { url: 'http://10.0.0.5:8000/healthcheck', setting: 'DOCS_NODE_URLS' });
    expect(f.summary).toBe('Connection refused by 10.0.0.5:8000: nothing listens on that port (or a firewall rejects it).');
    expect(f.fix).toMatch(/DOCS_NODE_URLS/);
    expect(classifyTransportError(err('ENOTFOUND'), { url: 'http://onlyoffice/healthcheck' }).summary).toBe('The name onlyoffice does not resolve (DNS error ENOTFOUND).');
  });

  test('an unknown message has credentials removed', () => {
    const f = classifyTransportError(new Error('failed for http://admin:pw@ds/x'), { url: 'http://ds/x' });
    expect(f.summary).not.toContain('admin:pw');
  });
});

describe('helpers', () => {
  test('hostPort fills in default ports', () => {
    expect(hostPort('https://a.example/x')).toBe('a.example:443');
    expect(hostPort('http://a.example/x')).toBe('a.example:80');
    expect(hostPort('http://a.example:8000')).toBe('a.example:8000');
  });
  test('formatMs', () => {
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(10_000)).toBe('10 s');
    expect(formatMs(1500)).toBe('1.5 s');
  });
});

describe('one code mapping for the DocumentServer and the drive checks', () => {
  const codes = ['ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_ADDRFAMILY', 'ECONNREFUSED', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE',
    'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
    'HOSTNAME_MISMATCH', 'ERR_SSL_WRONG_VERSION_NUMBER', 'CERT_REVOKED', 'EPROTO', 'HPE_INVALID_CONSTANT', 'ERR_INVALID_URL', 'EWHATEVER'];

  test.each(codes)('%s: the drive client and classifyTransportError name the same kind', (code) => {
    const drive = classifyNetworkError(err(code));
    const docs = classifyTransportError(err(code), { url: URL_ });
    expect(drive).toEqual({ kind: docs.kind, code: docs.code });
    expect(transportKindOf(code, '')).toEqual({ kind: docs.kind, code: docs.code });
  });

  test('messages alone: OpenSSL\'s "wrong version number" and a hang-up', () => {
    expect(classifyNetworkError(new Error('SSL routines:ssl3_get_record:wrong version number'))).toEqual({ kind: 'tls_not_tls', code: 'EPROTO' });
    expect(classifyNetworkError(new Error('socket hang up'))).toEqual({ kind: 'reset', code: 'ECONNRESET' });
  });

  test('a body-size error cannot come from the drive client: it is "other" there', () => {
    expect(classifyNetworkError(err('ERR_FR_MAX_BODY_LENGTH_EXCEEDED'))).toEqual({ kind: 'other', code: 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' });
  });

  test.each([null, undefined, 'text', 42, {}, { code: 7 }, { code: '' }, { message: { toString: 1 } }, []])('garbage %p → other, no code', (e) => {
    expect(classifyNetworkError(e)).toEqual({ kind: 'other', code: null });
  });
});
