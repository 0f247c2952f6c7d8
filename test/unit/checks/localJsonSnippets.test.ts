/** The local.json snippets are valid JSON with DocService's key paths, and never hold a secret value. */
import { inboxHeaderFix, ipfilterFix, jwtEnableFix, proofKeysFix, readDsSecretHint, wopiEnableFix } from '../../../connector/src/checks/localJsonSnippets.js';
import { displayUrl, endpoint, parseHttpUrl } from '../../../connector/src/checks/docsUrls.js';

/** Every top-level JSON object in a text (objects start at a line with `{` and end at a line with `}`). */
function jsonBlocks(text: string): unknown[] {
  return [...text.matchAll(/^\{$[\s\S]*?^\}$/gm)].map((m) => JSON.parse(m[0]) as unknown);
}

describe('local.json snippets', () => {
  test('wopi.enable', () => {
    expect(jsonBlocks(wopiEnableFix())).toEqual([{ wopi: { enable: true } }]);
    expect(wopiEnableFix()).toMatch(/WOPI_ENABLED=true/);
  });

  test('ipfilter sits under services.CoAuthoring, the bridge first', () => {
    const [block] = jsonBlocks(ipfilterFix('172.18.0.5'));
    expect(block).toEqual({
      services: { CoAuthoring: { ipfilter: { rules: [{ address: '172.18.0.5', allowed: true }, { address: '*', allowed: true }], useforrequest: true, errorcode: 403 } } },
    });
    expect(ipfilterFix('172.18.0.5')).toMatch(/top-level "ipfilter" key .* is ignored/);
    expect(ipfilterFix(undefined)).toMatch(/<the bridge's IP address as DS sees it>/);
  });

  test('JWT: enable tokens with a placeholder, never a value', () => {
    const [block] = jsonBlocks(jwtEnableFix()) as [{ services: { CoAuthoring: { token: unknown; secret: Record<string, { string: string }> } } }];
    expect(block.services.CoAuthoring.token).toEqual({ enable: { browser: true, request: { inbox: true, outbox: true } } });
    expect(Object.values(block.services.CoAuthoring.secret).map((s) => s.string)).toEqual(Array(3).fill('<the value of DOCS_JWT_SECRET>'));
    expect(readDsSecretHint()).toMatch(/services\.CoAuthoring\.secret\.inbox\.string/);
  });

  test('inbox header', () => {
    expect(jsonBlocks(inboxHeaderFix('AuthorizationJwt'))).toEqual([
      { services: { CoAuthoring: { token: { inbox: { header: 'AuthorizationJwt' }, outbox: { header: 'AuthorizationJwt' } } } } },
    ]);
  });

  test('proof keys: wopi.* with current and old pairs; cluster wording', () => {
    const [block] = jsonBlocks(proofKeysFix(false)) as [{ wopi: Record<string, unknown> }];
    expect(Object.keys(block.wopi).sort()).toEqual(
      ['exponent', 'exponentOld', 'modulus', 'modulusOld', 'privateKey', 'privateKeyOld', 'publicKey', 'publicKeyOld'].sort(),
    );
    expect(proofKeysFix(true)).toMatch(/every node/);
    expect(proofKeysFix(false)).not.toMatch(/every node/);
  });
});

describe('docsUrls', () => {
  test('endpoint keeps a sub-path and drops query and trailing slashes', () => {
    expect(endpoint('https://example.com/ds/', '/healthcheck')).toBe('https://example.com/ds/healthcheck');
    expect(endpoint('http://ds:8000?x=1', 'hosting/discovery')).toBe('http://ds:8000/hosting/discovery');
  });
  test('displayUrl removes credentials, query and the trailing slash', () => {
    expect(displayUrl('http://user:pw@ds:8000/x/?access_token=abc#f')).toBe('http://ds:8000/x');
    expect(displayUrl('not a url?token=1')).toBe('not a url');
  });
  test('parseHttpUrl accepts only http(s)', () => {
    expect(parseHttpUrl('https://ds')?.host).toBe('ds');
    expect(parseHttpUrl('ftp://ds')).toBeNull();
    expect(parseHttpUrl('')).toBeNull();
    expect(parseHttpUrl(null)).toBeNull();
  });
});
