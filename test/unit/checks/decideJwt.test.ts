/** decideJwt: the JWT verdict from each combination of command-service answers, without network. */
import { decideJwt, describeSkew, type JwtEvidence } from '../../../connector/src/checks/checkJwtSecret.js';
import type { ProbeOutcome } from '../../../connector/src/checks/probeHttp.js';
import type { VersionProbe, TokenPlacement } from '../../../connector/src/checks/versionCommand.js';

const URL_ = 'http://ds/coauthoring/CommandService.ashx';

function answered(placement: TokenPlacement['kind'], error: number, skewMs: number | null = 0): VersionProbe {
  const body = JSON.stringify(error === 0 ? { error, version: '9.3.1.11' } : { error });
  const outcome: ProbeOutcome = { ok: true, url: URL_, status: 200, headers: {}, body, ms: 1 };
  return { placement, outcome, answer: error === 0 ? { error, version: '9.3.1.11' } : { error }, skewMs };
}

function withSecret(body: number, header: number, wrong: number, opts: { bytes?: number; skewMs?: number } = {}): JwtEvidence {
  const skew = opts.skewMs ?? 0;
  return {
    secretBytes: opts.bytes ?? 64,
    header: 'Authorization',
    body: answered('body', body, skew),
    headerOnly: answered('header', header, skew),
    wrongSecret: answered('wrong_secret', wrong, skew),
  };
}

describe('decideJwt', () => {
  test.each([
    ['match: 0 / 0 / wrong 6', withSecret(0, 0, 6), 'ok', 'match'],
    ['short secret', withSecret(0, 0, 6, { bytes: 15 }), 'warn', 'match'],
    ['clocks 3 min apart but tokens pass', withSecret(0, 0, 6, { skewMs: 180_000 }), 'warn', 'match'],
    ['mismatch: body 6', withSecret(6, 6, 6), 'fail', 'mismatch'],
    ['expired: body 7', withSecret(7, 7, 6, { skewMs: 600_000 }), 'fail', 'clock_skew'],
    ['JWT off on DS: wrong secret accepted', withSecret(0, 0, 0), 'warn', 'not_enforced'],
    ['header name mismatch: body 0, header 6', withSecret(0, 6, 6), 'fail', 'header_mismatch'],
    ['unexpected code', withSecret(3, 3, 3), 'fail', 'unknown'],
  ] as const)('%s → %s', (_name, evidence, status, jwt) => {
    const r = decideJwt(evidence);
    expect(r.status).toBe(status);
    expect(r.data?.jwt).toBe(jwt);
    if (r.status !== 'ok') expect(r.fix).toBeTruthy();
  });

  test('without a secret: DS open → warn not_configured; DS requires tokens → fail ds_requires_token', () => {
    expect(decideJwt({ secretBytes: 0, header: 'Authorization', unsigned: answered('none', 0) }).data?.jwt).toBe('not_configured');
    const r = decideJwt({ secretBytes: 0, header: 'Authorization', unsigned: answered('none', 6) });
    expect(r).toMatchObject({ status: 'fail', data: { jwt: 'ds_requires_token' } });
  });

  test('the expired verdict states the measured skew; mismatch with a far-ahead DS mentions both causes', () => {
    const expired = decideJwt(withSecret(7, 7, 6, { skewMs: 603_000 }));
    expect(expired.summary).toBe('DocumentServer rejects the bridge\'s tokens as expired (error 7): DocumentServer\'s clock is 10 min 3 s ahead of the bridge\'s.');
    expect(expired.data?.clockSkewSeconds).toBe(603);
    const both = decideJwt(withSecret(6, 6, 6, { skewMs: 900_000 }));
    expect(both.summary).toMatch(/the secrets differ\. Besides, DocumentServer's clock is 15 min ahead/);
    expect(both.fix).toMatch(/NTP/);
  });

  test('a short secret is mentioned even when the real problem is elsewhere', () => {
    expect(decideJwt(withSecret(6, 6, 6, { bytes: 10 })).detail).toMatch(/10 bytes/);
  });

  test('a transport failure or a non-JSON answer decides before any code', () => {
    const failed: VersionProbe = {
      placement: 'body',
      outcome: { ok: false, url: URL_, ms: 5, failure: { kind: 'refused', code: 'ECONNREFUSED', summary: 'Connection refused by ds:80: …', fix: 'Start DS' } },
      answer: null,
      skewMs: null,
    };
    expect(decideJwt({ ...withSecret(0, 0, 6), body: failed })).toMatchObject({ status: 'fail', data: { transport: 'refused', jwt: 'unknown' } });
    const forbidden: VersionProbe = { placement: 'header', outcome: { ok: true, url: URL_, status: 403, headers: {}, body: 'Forbidden', ms: 1 }, answer: null, skewMs: null };
    expect(decideJwt({ ...withSecret(0, 0, 6), headerOnly: forbidden })).toMatchObject({ status: 'fail', data: { ipfilter: true } });
  });

  test('describeSkew', () => {
    expect(describeSkew(500)).toMatch(/agree/);
    expect(describeSkew(-45_000)).toBe('DocumentServer\'s clock is 45 s behind the bridge\'s');
    expect(describeSkew(120_000)).toBe('DocumentServer\'s clock is 2 min ahead of the bridge\'s');
  });
});
