/**
 * Helpers of the browser tests: Debian's chromium driven by playwright-core (no browser download; the package is
 * installed by scripts/install-test-deps.sh), a fresh profile per context, screenshots under test-artifacts/, and
 * the small servers the admin page's browser → DocumentServer check is pointed at.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- browser global (no DOM lib here)

/** Debian's chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = path.join(process.cwd(), 'test-artifacts');

export const LAPTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A browser with its own fresh profile. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Starts chromium headless with a fresh user-data dir.
 * @param locale the browser's language (navigator.languages)
 */
export async function launchBrowser(locale = 'en-US'): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'wopi-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    locale,
    viewport: LAPTOP,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A full-page screenshot in test-artifacts/ at a viewport size (restored afterwards).
 * @returns the file written
 */
export async function screenshot(page: Page, name: string, viewport: { width: number; height: number } = LAPTOP): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const before = page.viewportSize();
  await page.setViewportSize(viewport);
  // A viewport as tall as the page, so sticky parts sit where they belong (a fullPage shot keeps them in the
  // middle of the page, where the first screen ended).
  const height = await page.evaluate(() => document.documentElement.scrollHeight as number);
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, Math.min(height, 16_000)) });
  await page.waitForTimeout(100);
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (before) await page.setViewportSize(before);
  return file;
}

/** How far the page is wider than the viewport at a size (0 = no sideways scrolling). */
export async function horizontalOverflow(page: Page, viewport: { width: number; height: number }): Promise<number> {
  const before = page.viewportSize();
  await page.setViewportSize(viewport);
  await page.waitForTimeout(50);
  const overflow = await page.evaluate(() => (document.documentElement.scrollWidth as number) - (document.documentElement.clientWidth as number));
  if (before) await page.setViewportSize(before);
  return overflow;
}

/** A server that speaks HTTP; close() ends it. */
export interface SmallServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** What DocumentServer's nginx serves at /web-apps/apps/api/documents/api.js, reduced to what the page looks at. */
export const API_JS = "window.DocsAPI = { DocEditor: function DocEditor() {} };\nwindow.DocsAPI.DocEditor.version = function () { return '9.3.1'; };\n";

/**
 * Serves api.js like DocumentServer's nginx (the DocService double, like DocService itself, answers 404 there:
 * web-apps are static files served by nginx in front of it).
 * @param version what DocsAPI.DocEditor.version() returns
 */
export async function startApiJsServer(version = '9.3.1'): Promise<SmallServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/web-apps/apps/api/documents/api.js') {
      res.writeHead(200, { 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(API_JS.replace('9.3.1', version));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found');
  });
  return listen(server, requests, () => server.closeAllConnections());
}

/** Accepts TCP connections and never answers (an unreachable host that does not refuse: every request times out). */
export async function startHangingServer(): Promise<SmallServer> {
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    requests.push('connection');
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return listen(server, requests, () => {
    for (const s of sockets) s.destroy();
  });
}

/** Listens on 127.0.0.1 (any free port); close() drops the open connections, then stops listening. */
async function listen(server: net.Server, requests: string[], dropConnections: () => void): Promise<SmallServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        dropConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Records the body of every response the page receives (for the secret scans). `settled()` waits for the bodies
 * still being read.
 */
export function recordResponses(page: Page): { bodies: Array<{ url: string; text: string }>; settled(): Promise<void> } {
  const bodies: Array<{ url: string; text: string }> = [];
  const pending: Array<Promise<void>> = [];
  page.on('response', (res) => {
    pending.push(
      res.body().then(
        (b) => {
          bodies.push({ url: res.url(), text: b.toString('utf8') });
        },
        () => undefined, // redirects and aborted loads have no body
      ),
    );
  });
  return {
    bodies,
    async settled() {
      await Promise.all(pending);
    },
  };
}
