/**
 * The admin page in a real browser (Debian's chromium via playwright-core) against a real bridge started like
 * main.ts starts it, with the DocumentServer double: sign-in, settings, "Check without saving" (every result with
 * its fix), Chinese, "Save & check", secrets kept write-only everywhere, the page's own browser → DS check, and a
 * run against unreachable hosts that ends within its time limits while the page stays usable.
 * Screenshots go to test-artifacts/.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ALL_CHECK_IDS } from '../../connector/src/checks/configuredChecks.js';
import { DS_DOWNLOAD_RETRY_MS } from '../../connector/src/checks/checkDocsReachesBridge.js';
import { SETTING_KEYS } from '../../connector/src/config/settingsFile.js';
import { startDocServiceDouble, type DocServiceDouble } from '../helpers/docServiceDouble.js';
import { startNextcloudOcsDouble } from '../helpers/nextcloudOcsDouble.js';
import { freePort } from '../helpers/processes.js';
import { ADMIN_PASSWORD, startAdminBridge, type AdminBridge } from '../integration/admin/adminHarness.js';
import { LAPTOP, PHONE, horizontalOverflow, launchBrowser, recordResponses, screenshot, startApiJsServer, startHangingServer, type SmallServer, type TestBrowser } from './browser.js';

// Browser globals used inside page.evaluate callbacks (the test tsconfig has no DOM lib).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const localStorage: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const navigator: any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Limit of each test and hook (a browser start, a 10 s browser check and a few runs fit well). */
const T = 120_000;

const RIGHT_SECRET = 'e2e-right-jwt-secret-0123456789abcdef-K7';
const WRONG_SECRET = 'e2e-wrong-jwt-secret-0123456789abcdef-Q2';
const DRIVE_WRONG_PASSWORD = 'e2e-wrong-drive-password-Z9';
const BROWSER_CHECK = 'browser_docs_api';
const STATUSES = ['ok', 'warn', 'fail', 'skipped'];

/** One result row as the page shows it. */
interface Row {
  id: string;
  status: string;
  title: string;
  summary: string;
  fix: string | null;
}

async function rows(page: Page): Promise<Row[]> {
  return page.locator('#results-list > li').evaluateAll((lis) =>
    lis.map((li: any) => ({
      id: li.dataset.id,
      status: li.dataset.status,
      title: li.querySelector('.check-title')?.textContent ?? '',
      summary: li.querySelector('.check-summary')?.textContent ?? '',
      fix: li.querySelector('.check-fix')?.textContent ?? null,
    })),
  );
}

function row(all: Row[], id: string): Row {
  const r = all.find((x) => x.id === id);
  if (!r) throw new Error(`no row ${id}; rows: ${all.map((x) => x.id).join(', ')}`);
  return r;
}

async function runsFinished(page: Page): Promise<number> {
  return Number((await page.getAttribute('#results', 'data-runs')) ?? '0');
}

async function waitForRun(page: Page, before: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction((n) => Number(document.getElementById('results')?.dataset.runs ?? '0') > n, before, { timeout });
}

/** Clicks a run button and waits until the page has shown the whole run. */
async function run(page: Page, button: string | RegExp, timeout = 60_000): Promise<Row[]> {
  const before = await runsFinished(page);
  await page.getByRole('button', { name: button }).click();
  await waitForRun(page, before, timeout);
  return rows(page);
}

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/admin`);
  await page.getByLabel(/Admin password|管理员密码/).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: /^(Sign in|登录)$/ }).click();
  await page.locator('#settings-form .field').first().waitFor();
}

/** The fail/warn rows must carry a fix; every row a known status and a title that is not its id. */
function expectComplete(all: Row[]): void {
  for (const r of all) {
    expect(STATUSES).toContain(r.status);
    expect(r.title).not.toBe(r.id);
    expect(r.summary.trim()).not.toBe('');
    if (r.status === 'fail' || r.status === 'warn') expect({ id: r.id, fix: (r.fix ?? '').trim().length > 0 }).toEqual({ id: r.id, fix: true });
  }
}

describe('admin page in chromium: sign in, check, Chinese, save', () => {
  let ds: DocServiceDouble;
  let apiJs: SmallServer;
  let tb: AdminBridge;
  let browser: TestBrowser;
  let page: Page;
  let responses: ReturnType<typeof recordResponses>;

  beforeAll(async () => {
    ds = await startDocServiceDouble({ jwtSecret: RIGHT_SECRET });
    apiJs = await startApiJsServer();
    tb = await startAdminBridge({});
    browser = await launchBrowser('en-US');
    page = browser.page;
    responses = recordResponses(page);
  }, T);

  afterAll(async () => {
    await browser?.close();
    await tb?.stop();
    await apiJs?.close();
    await ds?.close();
  }, T);

  test('refuses a wrong password, then signs in', async () => {
    await page.goto(`${tb.url}/admin`);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-signin-en-phone', PHONE);
    await page.getByLabel('Admin password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong password.').waitFor();
    await page.getByLabel('Admin password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Check without saving' }).waitFor();
    expect(await page.locator('#signin').isHidden()).toBe(true);
    // every setting is there, grouped
    for (const label of ['DocumentServer address', 'Public address (browsers)', 'Internal address (the bridge)', 'JWT secret', 'JWT header name', 'Drive WebDAV address', 'Drive kind', 'Admin password', 'Redis address', 'Log level']) {
      expect(await page.locator('#settings-form').getByLabel(label, { exact: true }).count()).toBe(1);
    }
    expect(await page.locator('#settings-form .field').count()).toBe(SETTING_KEYS.length);
    expect(await page.locator('#group-other').count()).toBe(0);
    // sign-in and formats: the mode is a select of the four modes, the shared password write-only
    const mode = page.locator('#group-signin').getByLabel('Sign-in mode', { exact: true });
    expect(await mode.evaluate((el: any) => el.tagName)).toBe('SELECT');
    expect(await mode.locator('option').evaluateAll((os) => os.map((o: any) => o.value))).toEqual(['', 'auto', 'webdav', 'nextcloud', 'service']);
    expect(await page.locator('#group-signin').getByLabel('Shared sign-in password', { exact: true }).getAttribute('type')).toBe('password');
    expect(await page.locator('#group-signin').getByLabel('Formats that open for editing', { exact: true }).count()).toBe(1);
    expect(await page.locator('#group-signin').getByLabel('Session lifetime (seconds)', { exact: true }).count()).toBe(1);
    expect(await page.getByLabel('JWT secret', { exact: true }).getAttribute('type')).toBe('password');
    expect(await page.locator('[data-key="DOCS_JWT_SECRET"] [data-secret-state]').textContent()).toBe('not set');
  }, T);

  test('"Check without saving" shows every check with its fix; a wrong secret fails jwt_secret', async () => {
    await page.getByLabel('DocumentServer address', { exact: true }).fill(ds.url);
    await page.getByLabel('Public address (browsers)').fill(apiJs.url);
    await page.getByLabel('JWT secret', { exact: true }).fill(WRONG_SECRET);
    const all = await run(page, 'Check without saving');

    expect(all.map((r) => r.id).sort()).toEqual([...ALL_CHECK_IDS, BROWSER_CHECK].sort());
    expectComplete(all);
    const jwt = row(all, 'jwt_secret');
    expect(jwt.status).toBe('fail');
    expect(jwt.title).toBe('JWT secret matches');
    expect(jwt.fix).toMatch(/DOCS_JWT_SECRET/);
    expect(row(all, 'docs_reachable').status).toBe('ok');
    // The public address is not saved yet: the page's CSP allows scripts only from the saved DS origin.
    const browserRow = row(all, BROWSER_CHECK);
    expect(browserRow.status).toBe('skipped');
    expect(browserRow.fix).toMatch(/Save & check/);
    // progress shows n of n; nothing was saved
    const total = ALL_CHECK_IDS.length + 1;
    expect(await page.locator('#progress-label').textContent()).toBe(`${total} of ${total}`);
    await page.getByText('Checked the values in the form. They are not saved.').waitFor();
    await expect(stat(path.join(tb.dataDir, 'settings.json'))).rejects.toThrow();
    // a fix with a local.json snippet is a <pre> with a copy button
    await screenshot(page, 'admin-checked-en-laptop', LAPTOP);
    await screenshot(page, 'admin-checked-en-phone', PHONE);
    expect(await horizontalOverflow(page, PHONE)).toBe(0);
  }, T);

  test('fixes with code render as <pre> with a copy button, all as text', async () => {
    // the DS double with WOPI off gives a fix with the local.json snippet
    const off = await startDocServiceDouble({ jwtSecret: RIGHT_SECRET, wopiEnabled: false });
    try {
      await page.getByLabel('DocumentServer address', { exact: true }).fill(off.url);
      const all = await run(page, 'Check without saving');
      expect(row(all, 'wopi_enabled').status).toBe('fail');
      const pre = page.locator('#results-list > li[data-id="wopi_enabled"] .check-fix pre');
      expect(await pre.count()).toBeGreaterThan(0);
      const snippet = (await pre.first().textContent()) ?? '';
      expect(JSON.parse(snippet)).toEqual({ wopi: { enable: true } });
      await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tb.url });
      const copy = page.locator('#results-list > li[data-id="wopi_enabled"] .check-fix .code-block button').first();
      await copy.click();
      await page.locator('#results-list > li[data-id="wopi_enabled"] .check-fix .code-block button', { hasText: 'Copied' }).first().waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(snippet);
      // server text never becomes markup: no element inside a fix except the page's own
      const tags: string[] = await page
        .locator('#results-list .check-fix *')
        .evaluateAll((els) => [...new Set(els.map((e: any) => String(e.tagName).toLowerCase()))] as string[]);
      for (const tag of tags) expect(['h4', 'div', 'p', 'pre', 'code', 'button', 'ul', 'li', 'span']).toContain(tag);
    } finally {
      await page.getByLabel('DocumentServer address', { exact: true }).fill(ds.url);
      await off.close();
    }
  }, T);

  test('switches to Chinese: labels, buttons, statuses and check titles change; the form keeps its values', async () => {
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('button', { name: '不保存，仅检查' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.getByRole('button', { name: '保存并检查' }).count()).toBe(1);
    expect(await page.locator('#group-docs > legend').textContent()).toBe('ONLYOFFICE Docs（DocumentServer）');
    expect(await page.getByLabel('JWT 密钥', { exact: true }).inputValue()).toBe(WRONG_SECRET);
    expect(await page.getByLabel('DocumentServer 地址', { exact: true }).inputValue()).toBe(ds.url);
    expect(await page.getByRole('button', { name: '退出登录' }).count()).toBe(1);
    expect(await page.locator('#f-STORAGE_FLAVOUR option[value=""]').textContent()).toBe('默认（自动识别）');
    const all = await rows(page);
    expect(row(all, 'jwt_secret').title).toBe('JWT 密钥匹配');
    expect(row(all, 'drive_reachable').title).toBe('网盘可访问');
    expect(await page.locator('#results-list > li[data-id="jwt_secret"] .badge').textContent()).toBe('失败');
    expect(await page.locator('#results-list > li[data-id="jwt_secret"] .check-fix h4').textContent()).toBe('修复方法');
    // the server's texts come with message keys: summary and fix in Chinese, setting names and URLs as they are
    const jwtRow = page.locator('#results-list > li[data-id="jwt_secret"]');
    expect(await jwtRow.locator('.check-summary').getAttribute('lang')).toBeNull();
    expect(row(all, 'jwt_secret').summary).toMatch(/密钥不同/);
    expect(row(all, 'jwt_secret').fix).toMatch(/请将 DOCS_JWT_SECRET 设为/);
    const reach = row(all, 'docs_reaches_bridge');
    expect(reach.title).toBe('DocumentServer 能访问桥接服务');
    expect(reach.summary).toMatch(/错误 -8/);
    expect(row(all, 'mixed_content').summary).toMatch(/没有混合内容|没有已知的页面地址/);
    // a result without a key of its own stays English, marked as such
    const english = await page.locator('#results-list .check-summary[lang="en"]').count();
    expect(english).toBeLessThan(all.length);
    // the page's own check is translated
    expect(row(all, BROWSER_CHECK).summary).toMatch(/未检查/);
    expect(await page.evaluate(() => localStorage.getItem('wopi-bridge.admin.lang'))).toBe('zh-CN');
    await screenshot(page, 'admin-checked-zh-laptop', LAPTOP);
    await screenshot(page, 'admin-checked-zh-phone', PHONE);
    expect(await horizontalOverflow(page, PHONE)).toBe(0);
    // the sign-in group in Chinese
    expect(await page.locator('#group-signin > legend').textContent()).toBe('登录与格式');
    expect(await page.locator('#f-SIGN_IN_MODE option[value="service"]').textContent()).toBe('按名称，通过一个服务账号');
    await page.locator('#group-signin').scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-signin-group-zh-laptop', LAPTOP);
  }, T);

  test('drive and encryption results in Chinese: summaries translated, setting names in the fixes as they are', async () => {
    // A Nextcloud double whose encryption module is missing (state d-), the wrong drive password, no admin account.
    const nc = await startNextcloudOcsDouble({ state: 'd' });
    try {
      nc.putFile('alice', '/enc.docx', Buffer.from('hello wopi v1\n'), { encrypted: true });
      await page.locator('#f-STORAGE_URL').fill(nc.davUrl('alice'));
      await page.locator('#f-STORAGE_USER').fill('alice');
      await page.locator('#f-STORAGE_PASSWORD').fill(DRIVE_WRONG_PASSWORD);
      const all = await run(page, '不保存，仅检查');
      expectComplete(all);
      const reach = page.locator('#results-list > li[data-id="drive_reachable"]');
      expect(await reach.locator('.check-summary').getAttribute('lang')).toBeNull();
      expect(row(all, 'drive_reachable').summary).toMatch(/^网盘在 127\.0\.0\.1:\d+ 上有应答（PROPFIND 返回 HTTP 401）。$/);
      const cred = row(all, 'drive_credentials');
      expect(cred.status).toBe('fail');
      expect(cred.summary).toBe('Nextcloud 拒绝了“alice”的用户名或密码（HTTP 401）。');
      expect(cred.fix).toContain('并将其填入 STORAGE_PASSWORD');
      expect(await page.locator('#results-list > li[data-id="drive_credentials"] .check-fix').getAttribute('lang')).toBeNull();
      const enc = row(all, 'drive_encryption');
      expect(enc.status).toBe('skipped');
      expect(enc.summary).toMatch(/^未读取加密设置：这需要 Nextcloud 管理员的凭据（未设置 STORAGE_ADMIN_USER 和 STORAGE_ADMIN_PASSWORD）/);
      expect(enc.fix).toMatch(/请将 STORAGE_ADMIN_USER 和 STORAGE_ADMIN_PASSWORD 设为 Nextcloud 管理员组中的一个账号/);
      expect(row(all, 'drive_encryption_probe').summary).toBe('未运行：网盘拒绝了网盘凭据（见凭据检查）。');
      for (const id of ['drive_reachable', 'drive_credentials', 'drive_flavour', 'drive_root', 'drive_encryption', 'drive_encryption_probe']) {
        const english = await page.locator(`#results-list > li[data-id="${id}"]`).locator('.check-summary[lang="en"], .check-fix[lang="en"]').count();
        expect({ id, english }).toEqual({ id, english: 0 });
      }
      await page.locator('#results-list > li[data-id="drive_credentials"]').scrollIntoViewIfNeeded();
      await screenshot(page, 'admin-drive-encryption-zh-laptop', LAPTOP);
      const texts = await page.locator('#results-list').textContent();
      expect(texts).not.toContain(DRIVE_WRONG_PASSWORD);
    } finally {
      // back to the form of the other tests (nothing was saved)
      for (const key of ['STORAGE_URL', 'STORAGE_USER', 'STORAGE_PASSWORD']) await page.locator(`#f-${key}`).fill('');
      await nc.close();
    }
  }, T);

  test('every check and setting has its words in every language; the browser language picks the page language', async () => {
    const missing = await page.evaluate(async ({ ids, keys }) => {
      const i18n = await import('/admin/assets/i18n.js' as string);
      const out: string[] = [];
      for (const { code } of i18n.LANGUAGES) {
        for (const id of ids) if (!i18n.MESSAGES[code][`check.${id}`]) out.push(`${code}:check.${id}`);
        for (const key of keys) for (const part of ['label', 'help']) if (!i18n.MESSAGES[code][`field.${key}.${part}`]) out.push(`${code}:field.${key}.${part}`);
        for (const key of Object.keys(i18n.MESSAGES.en)) if (i18n.MESSAGES[code][key] === undefined) out.push(`${code}:${key}`);
      }
      return {
        out,
        zh: i18n.pickLanguage(['zh-TW', 'en'], null),
        en: i18n.pickLanguage(['de-DE', 'en-GB', 'zh-CN'], null),
        other: i18n.pickLanguage(['fr'], null),
        stored: i18n.pickLanguage(['zh-CN'], 'en'),
      };
    }, { ids: [...ALL_CHECK_IDS, BROWSER_CHECK], keys: SETTING_KEYS.map((k) => k.key) });
    expect(missing).toEqual({ out: [], zh: 'zh-CN', en: 'en', other: 'en', stored: 'en' });
  }, T);

  test('"Save & check" (in Chinese) saves, says so and asks for a restart; the right secret matches', async () => {
    await page.getByLabel('JWT 密钥', { exact: true }).fill(RIGHT_SECRET);
    const all = await run(page, '保存并检查');
    await page.getByText('设置已保存。').waitFor();
    await page.locator('[data-banner="restart"]').waitFor();
    expect(await page.locator('[data-banner="restart"]').textContent()).toMatch(/重启/);
    expect(row(all, 'jwt_secret').status).toBe('ok');
    expectComplete(all);
    const file = JSON.parse(await readFile(path.join(tb.dataDir, 'settings.json'), 'utf8')) as Record<string, string>;
    expect(file).toMatchObject({ DOCS_URL: ds.url, DOCS_PUBLIC_URL: apiJs.url, DOCS_JWT_SECRET: RIGHT_SECRET });
    // the form was reloaded: the secret is set and its input empty
    expect(await page.locator('[data-key="DOCS_JWT_SECRET"] [data-secret-state]').textContent()).toBe('已设置');
    expect(await page.getByLabel('JWT 密钥', { exact: true }).inputValue()).toBe('');
  }, T);

  test('after a reload: still Chinese, the secret shows "set" with an empty input, and this browser loads api.js', async () => {
    await page.reload();
    await page.locator('#settings-form .field').first().waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.locator('[data-key="DOCS_JWT_SECRET"] [data-secret-state]').textContent()).toBe('已设置');
    expect(await page.getByLabel('JWT 密钥', { exact: true }).inputValue()).toBe('');
    expect(await page.getByLabel('DocumentServer 地址', { exact: true }).inputValue()).toBe(ds.url);
    await page.getByLabel('语言').selectOption('en');
    expect(await page.locator('[data-key="DOCS_JWT_SECRET"] [data-secret-state]').textContent()).toBe('set');
    expect(await page.getByLabel('JWT secret', { exact: true }).getAttribute('placeholder')).toMatch(/unchanged/);

    // the saved DS public origin is now in the page's CSP: the page loads api.js from it
    const loadsBefore = apiJs.requests.length;
    const all = await run(page, 'Check without saving');
    expect(row(all, BROWSER_CHECK).status).toBe('ok');
    expect(row(all, BROWSER_CHECK).summary).toMatch(/loaded api\.js from DocumentServer 9\.3\.1/);
    expect(apiJs.requests.length).toBeGreaterThan(loadsBefore);
    // an empty secret input means "unchanged": the stored secret was checked
    expect(row(all, 'jwt_secret').status).toBe('ok');
    expectComplete(all);

    // "Clear" marks the secret for removal and can be undone
    const secretRow = page.locator('[data-key="DOCS_JWT_SECRET"]');
    await secretRow.getByRole('button', { name: 'Clear JWT secret' }).click();
    expect(await secretRow.locator('[data-secret-state]').textContent()).toBe('will be cleared');
    expect(await page.getByLabel('JWT secret', { exact: true }).isDisabled()).toBe(true);
    await secretRow.getByRole('button', { name: 'Keep JWT secret' }).click();
    expect(await secretRow.locator('[data-secret-state]').textContent()).toBe('set');

    // the last background run and the history
    await tb.bridge.checker.runNow();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#bg-body table.history tbody tr').first().waitFor();
    expect(await page.locator('#bg-body .bg-last .badge').count()).toBe(1);
    expect(await page.locator('#bg-body table.history').textContent()).toMatch(/first run/);
    await screenshot(page, 'admin-saved-en-laptop', LAPTOP);
    await screenshot(page, 'admin-saved-en-phone', PHONE);
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'admin-saved-en-laptop-dark', LAPTOP);
    await page.emulateMedia({ colorScheme: 'light' });
  }, T);

  test('no secret in the page, in any response the page received, or in the bridge log', async () => {
    await responses.settled();
    const secrets = [RIGHT_SECRET, WRONG_SECRET, ADMIN_PASSWORD];
    const html = await page.content();
    for (const s of secrets) expect(html.includes(s)).toBe(false);
    expect(responses.bodies.length).toBeGreaterThan(10);
    for (const s of secrets) {
      const hit = responses.bodies.find((b) => b.text.includes(s));
      expect(hit ? `${hit.url} contains ${s.slice(0, 8)}…` : 'none').toBe('none');
    }
    for (const s of secrets) expect(tb.logs.lines.some((l) => l.includes(s))).toBe(false);
  }, T);

  test('sign-out forgets the settings on the page', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(await page.locator('#fields .field').count()).toBe(0);
    await page.reload();
    await page.getByLabel('Admin password').waitFor();
  }, T);
});

describe('admin page in chromium: settings from the environment, a wrong public URL', () => {
  let ds: DocServiceDouble;
  let tb: AdminBridge;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    ds = await startDocServiceDouble({ jwtSecret: RIGHT_SECRET });
    const closed = await freePort(); // nothing listens there
    tb = await startAdminBridge({ DOCS_URL: ds.url, DOCS_PUBLIC_URL: `http://127.0.0.1:${closed}`, DOCS_JWT_SECRET: RIGHT_SECRET });
    browser = await launchBrowser('zh-CN');
    page = browser.page;
  }, T);

  afterAll(async () => {
    await browser?.close();
    await tb?.stop();
    await ds?.close();
  }, T);

  test('the browser language picks Chinese; env settings are locked; api.js from a wrong public URL fails with a fix', async () => {
    await signIn(page, tb.url);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await page.getByLabel('语言').selectOption('en');

    const docsUrl = page.getByLabel('DocumentServer address', { exact: true });
    expect(await docsUrl.isDisabled()).toBe(true);
    expect(await docsUrl.inputValue()).toBe(ds.url);
    expect(await page.locator('[data-key="DOCS_URL"] .tag-locked').textContent()).toBe('set by the environment');
    const secret = page.getByLabel('JWT secret', { exact: true });
    expect(await secret.isDisabled()).toBe(true);
    expect(await secret.inputValue()).toBe('');
    expect(await page.locator('[data-key="DOCS_JWT_SECRET"] [data-secret-state]').textContent()).toBe('set');
    expect(await page.locator('[data-key="DOCS_JWT_SECRET"] .tag-locked').count()).toBe(1);

    const all = await run(page, 'Check without saving');
    expectComplete(all);
    expect(row(all, 'jwt_secret').status).toBe('ok');
    const browserRow = row(all, BROWSER_CHECK);
    expect(browserRow.status).toBe('fail');
    expect(browserRow.summary).toMatch(/could not load api\.js/);
    expect(browserRow.fix).toMatch(/DOCS_PUBLIC_URL/);
    expect(browserRow.fix).toMatch(/mixed content/);
    expect(await page.content()).not.toContain(RIGHT_SECRET);
    expect(tb.logs.lines.some((l) => l.includes(RIGHT_SECRET))).toBe(false);
  }, T);
});

describe('admin page in chromium: a run against unreachable hosts', () => {
  const DOCS_TIMEOUT_MS = 1500;
  const STORAGE_TIMEOUT_MS = 1500;
  let hanging: SmallServer;
  let tb: AdminBridge;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    hanging = await startHangingServer();
    tb = await startAdminBridge({ DOCS_URL: hanging.url, DOCS_TIMEOUT_MS: String(DOCS_TIMEOUT_MS), STORAGE_TIMEOUT_MS: String(STORAGE_TIMEOUT_MS) });
    browser = await launchBrowser('en-US');
    page = browser.page;
  }, T);

  afterAll(async () => {
    await browser?.close();
    await tb?.stop();
    await hanging?.close();
  }, T);

  test('finishes within the configured timeouts while the page shows progress and can switch language', async () => {
    await signIn(page, tb.url);
    await page.getByLabel('Drive WebDAV address').fill(`${hanging.url}/remote.php/dav/files/wopi/`);
    await page.getByLabel('Account', { exact: true }).fill('wopi');
    await page.getByLabel('Password', { exact: true }).fill('drive-password-e2e');

    const before = await runsFinished(page);
    const started = Date.now();
    // from the keyboard: Enter in a field submits with the form's first button, "Check without saving"
    await page.getByLabel('Password', { exact: true }).press('Enter');

    // while it runs: the button says how far it is, rows spin, the language can be switched
    const busy = page.locator('#btn-check');
    await page.waitForFunction(() => /Checking… \d+ of \d+/.test(document.getElementById('btn-check')?.textContent ?? ''));
    expect(await busy.isDisabled()).toBe(true);
    expect(await page.locator('#results-list .badge-running').count()).toBeGreaterThan(0);
    await screenshot(page, 'admin-running-en-laptop', LAPTOP);
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.waitForFunction(() => /正在检查… \d+ \/ \d+/.test(document.getElementById('btn-check')?.textContent ?? ''));
    expect(await page.locator('#group-docs > legend').textContent()).toBe('ONLYOFFICE Docs（DocumentServer）');
    await page.getByLabel('语言').selectOption('en');

    // the server's checks end within their limits: 2 requests × DOCS_TIMEOUT_MS + 1 s margin for the slowest,
    // except DS → bridge, whose conversion request also waits for DS's download retries
    const serverIds = [...ALL_CHECK_IDS];
    const serverLimitMs = Math.max(2 * DOCS_TIMEOUT_MS + 1000, DOCS_TIMEOUT_MS + DS_DOWNLOAD_RETRY_MS + 1000);
    await page.waitForFunction(
      (ids) => ids.every((id: string) => ['ok', 'warn', 'fail', 'skipped'].includes(document.querySelector(`#results-list > li[data-id="${id}"]`)?.dataset.status)),
      serverIds,
      { timeout: serverLimitMs + 3000 },
    );
    const serverMs = Date.now() - started;
    expect(serverMs).toBeLessThan(serverLimitMs + 3000);

    // the browser's own check gives up after 10 s
    await waitForRun(page, before, 20_000);
    const totalMs = Date.now() - started;
    expect(totalMs).toBeLessThan(10_000 + 4000);
    const all = await rows(page);
    expectComplete(all);
    for (const id of ['docs_reachable', 'docs_version', 'wopi_enabled', 'jwt_secret', 'drive_reachable']) expect({ id, status: row(all, id).status }).toEqual({ id, status: 'fail' });
    expect(row(all, BROWSER_CHECK).status).toBe('fail');
    expect(row(all, BROWSER_CHECK).summary).toMatch(/did not load within 10 s/);
    expect(await page.getByRole('button', { name: 'Check without saving' }).isEnabled()).toBe(true);
    await screenshot(page, 'admin-unreachable-en-laptop', LAPTOP);
  }, T);
});
