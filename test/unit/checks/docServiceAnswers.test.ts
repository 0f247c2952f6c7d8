/** Reading DocumentServer's answers, on the bodies of the DocService 9.3.1 captures. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  commandErrorMeaning,
  compareDsVersions,
  isIpFilterAnswer,
  measureSkewMs,
  parseCommandAnswer,
  parseDsVersion,
  parseIndexBanner,
  type DsVersion,
} from '../../../connector/src/checks/docServiceAnswers.js';
import { fixturesDir } from '../../helpers/sharedDir.js';

const ONLYOFFICE = fixturesDir('onlyoffice');

/** Status and body of a capture (LF line ends). */
function captured(name: string): { status: number; body: string } {
  const raw = readFileSync(path.join(ONLYOFFICE, name), 'utf8');
  const at = raw.search(/\nHTTP\/1\.[01] \d{3}/);
  const status = Number(/HTTP\/1\.[01] (\d{3})/.exec(raw.slice(at))?.[1]);
  const head = raw.indexOf('\n\n', at + 1);
  return { status, body: raw.slice(head + 2) };
}

const v = (s: string): DsVersion => parseDsVersion(s) as DsVersion;

describe('docServiceAnswers', () => {
  test('the /index.html banner gives version and build (02)', () => {
    expect(parseIndexBanner(captured('02-index-html-version.http').body)).toEqual({ text: '9.3.1.11', parts: [9, 3, 1, 11] });
    expect(parseIndexBanner('<html>Welcome to nginx</html>')).toBeNull();
  });

  test('command answers: ok (10), invalid token (13, 15), expired (16), not JSON (75)', () => {
    expect(parseCommandAnswer(captured('10-command-version-body-token-ok.http'))).toEqual({ error: 0, version: '9.3.1.11' });
    expect(parseCommandAnswer(captured('13-command-version-body-token-wrong-secret.http'))).toEqual({ error: 6 });
    expect(parseCommandAnswer(captured('15-command-version-no-token.http'))).toEqual({ error: 6 });
    expect(parseCommandAnswer(captured('16-command-version-expired-token.http'))).toEqual({ error: 7 });
    expect(parseCommandAnswer(captured('75-ipfilter-deny-command-version.http'))).toBeNull();
    expect(parseCommandAnswer({ status: 200, body: '{"error":"6"}' })).toEqual({ error: 6 });
    expect(parseCommandAnswer({ status: 200, body: '[]' })).toBeNull();
  });

  test('the ipfilter\'s refusal (73, 74, 75) is told from WOPI off (70) and from crashes', () => {
    expect(isIpFilterAnswer(captured('73-ipfilter-deny-healthcheck.http'))).toBe(true);
    expect(isIpFilterAnswer(captured('74-ipfilter-deny-discovery.http'))).toBe(true);
    expect(isIpFilterAnswer(captured('75-ipfilter-deny-command-version.http'))).toBe(true);
    expect(isIpFilterAnswer(captured('70-wopi-disabled-discovery.http'))).toBe(false);
    expect(isIpFilterAnswer({ status: 401, body: 'Unauthorized' })).toBe(true);
    expect(isIpFilterAnswer({ status: 500, body: 'Internal Server Error' })).toBe(false);
    expect(isIpFilterAnswer({ status: 403, body: '<html>403 Forbidden</html>' })).toBe(false);
  });

  test('versions parse and compare part by part', () => {
    expect(parseDsVersion('8.2')).toEqual({ text: '8.2', parts: [8, 2, 0, 0] });
    expect(parseDsVersion('nightly')).toBeNull();
    expect(compareDsVersions(v('9.3.1.11'), v('8.0'))).toBeGreaterThan(0);
    expect(compareDsVersions(v('7.5.1.1'), v('8.0'))).toBeLessThan(0);
    expect(compareDsVersions(v('6.4.0.0'), v('6.4'))).toBe(0);
    expect(compareDsVersions(v('10.0'), v('9.3.1.11'))).toBeGreaterThan(0);
  });

  test('skew from the Date header: positive when DS is ahead, null without a header', () => {
    const dsTime = Date.parse('Sun, 22 Nov 2026 07:40:00 GMT');
    expect(measureSkewMs('Sun, 22 Nov 2026 07:40:00 GMT', dsTime - 600_000, dsTime - 599_000)).toBe(600_000);
    expect(measureSkewMs('Sun, 22 Nov 2026 07:40:00 GMT', dsTime + 500, dsTime + 500)).toBe(0);
    expect(measureSkewMs(undefined, 0, 0)).toBeNull();
    expect(measureSkewMs('not a date', 0, 0)).toBeNull();
  });

  test('error meanings', () => {
    expect(commandErrorMeaning(6)).toBe('invalid token');
    expect(commandErrorMeaning(7)).toBe('token expired');
    expect(commandErrorMeaning(42)).toBe('unknown error code 42');
  });
});
