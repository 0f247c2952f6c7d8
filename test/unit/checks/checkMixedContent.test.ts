/** checkMixedContent: scheme comparison of the pages browsers open with DocumentServer's public address. */
import { checkMixedContent, decideMixedContent } from '../../../connector/src/checks/checkMixedContent.js';

describe('checkMixedContent', () => {
  test('fail: https bridge, http DocumentServer — with the fix', async () => {
    const r = await checkMixedContent({ internalUrl: 'http://ds:80', publicUrl: 'http://docs.example.com', bridgeUrl: 'https://wopi.example.com' });
    expect(r).toMatchObject({ id: 'mixed_content', status: 'fail' });
    expect(r.summary).toBe(
      'Mixed content: the bridge (host page) (https://wopi.example.com) is served over https but DocumentServer\'s public address http://docs.example.com is http, so browsers will block the editor.',
    );
    expect(r.fix).toMatch(/set DOCS_PUBLIC_URL to its https:\/\/ address/);
    expect(r.fix).toMatch(/X-Forwarded-Proto: https/);
    expect(r.ms).toBeGreaterThanOrEqual(0);
  });

  test('fail: https admin page, http DocumentServer (public URL defaults to the internal one)', () => {
    const r = decideMixedContent({ internalUrl: 'http://ds', bridgeUrl: 'http://wopi.local', adminPageUrl: 'https://wopi.example.com/admin' });
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/the admin page \(https:\/\/wopi\.example\.com\/admin\)/);
    expect(r.fix).toMatch(/DOCS_INTERNAL_URL/);
  });

  test('ok: https everywhere, http everywhere, http page with https DS, and no page known', () => {
    expect(decideMixedContent({ internalUrl: 'http://ds', publicUrl: 'https://docs.example.com', bridgeUrl: 'https://wopi.example.com' }).status).toBe('ok');
    const plain = decideMixedContent({ internalUrl: 'http://ds', bridgeUrl: 'http://wopi.local' });
    expect(plain.status).toBe('ok');
    expect(plain.summary).toMatch(/nothing is encrypted/);
    expect(decideMixedContent({ internalUrl: 'http://ds', publicUrl: 'https://docs.example.com', bridgeUrl: 'http://wopi.local' }).status).toBe('ok');
    expect(decideMixedContent({ internalUrl: 'http://ds' }).summary).toMatch(/no page address is known/);
  });

  test('fail: addresses that are not http(s) URLs', () => {
    expect(decideMixedContent({ internalUrl: 'ds:80' }).status).toBe('fail');
    expect(decideMixedContent({ internalUrl: 'http://ds', bridgeUrl: 'wopi.example.com' }).summary).toMatch(/address of the bridge \(host page\), wopi\.example\.com, is not/);
  });

  test('skipped: no DocumentServer address', () => {
    expect(decideMixedContent({ internalUrl: null }).status).toBe('skipped');
  });

  test('credentials and queries never show', () => {
    const r = decideMixedContent({ internalUrl: 'http://u:secretpw@ds/?token=abc', bridgeUrl: 'https://wopi.example.com' });
    expect(JSON.stringify(r)).not.toMatch(/secretpw|token=abc/);
  });
});
