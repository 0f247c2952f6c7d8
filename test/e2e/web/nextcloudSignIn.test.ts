/**
 * Nextcloud Login Flow v2 in chromium: the button, the waiting page that links to Nextcloud's own page (new tab) and
 * polls the bridge by itself, and the folder asked for once the person granted access (played by the double).
 */
import type { Page } from 'playwright-core';
import { startNextcloudLoginDouble, type NextcloudLoginDouble } from '../../helpers/nextcloudLoginDouble.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { PHONE, launchBrowser, screenshot, type TestBrowser } from '../browser.js';

const T = 120_000;

describe('sign in with Nextcloud in the browser', () => {
  let nc: NextcloudLoginDouble;
  let tb: TestBridge;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    nc = await startNextcloudLoginDouble();
    nc.backend.putFileDirect('bob', '/Projects/Plan.docx', Buffer.from('bob plan'));
    tb = await startTestBridge({ STORAGE_URL: nc.davUrl('alice'), STORAGE_USER: 'alice', STORAGE_PASSWORD: nc.users.alice as string, STORAGE_FLAVOUR: 'nextcloud', SIGN_IN_MODE: 'nextcloud' });
    browser = await launchBrowser('en-US');
    page = browser.page;
  }, T);
  afterAll(async () => {
    await browser?.close();
    await tb?.stop();
    await nc?.close();
  }, T);

  test('button → Nextcloud link in a new tab → the page polls and lands on the folder asked for', async () => {
    await page.goto(`${tb.url}/?path=%2FProjects`);
    await page.getByRole('button', { name: 'Sign in with Nextcloud' }).click();
    const link = page.getByRole('link', { name: "Open Nextcloud's sign-in page" });
    await link.waitFor();
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');
    const loginUrl = (await link.getAttribute('href')) as string;
    expect(loginUrl.startsWith(`${nc.origin}/index.php/login/v2/flow/`)).toBe(true);
    await page.getByText('Waiting for Nextcloud…').waitFor();
    await screenshot(page, 'web-signin-nextcloud-waiting-phone', PHONE);
    // Pending polls leave the page waiting; then the person grants access on Nextcloud.
    const pollsBefore = nc.loginRequests.filter((r) => r.path.endsWith('/poll')).length;
    await page.waitForResponse((r) => r.url().endsWith('/signin/nextcloud/poll'));
    expect(nc.loginRequests.filter((r) => r.path.endsWith('/poll')).length).toBeGreaterThan(pollsBefore);
    nc.grant(loginUrl, 'bob');
    await page.getByRole('heading', { name: 'Projects' }).waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).searchParams.get('path')).toBe('/Projects');
    expect(await page.locator('tr[data-name="Plan.docx"]').count()).toBe(1);
    expect(await page.locator('header .who').textContent()).toBe('Bob');
  }, T);
});
