/**
 * A small HTTP client for the pages, like a browser without scripts: keeps cookies, does not follow redirects, and
 * records every response (for the token scans).
 */

/** One answer as the tests look at it. */
export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Set-Cookie lines of this response. */
  setCookies: string[];
  location: string | null;
}

export class PageClient {
  readonly cookies = new Map<string, string>();
  readonly responses: Array<{ url: string; res: PageResponse }> = [];

  /** @param base the bridge's URL (no trailing slash) */
  constructor(readonly base: string) {}

  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }

  private async record(url: string, res: Response): Promise<PageResponse> {
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const out: PageResponse = { status: res.status, headers: res.headers, text: await res.text(), setCookies, location: res.headers.get('location') };
    this.responses.push({ url, res: out });
    return out;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    const url = `${this.base}${path}`;
    return this.record(url, await fetch(url, { redirect: 'manual', headers: { ...this.cookieHeader(), ...headers } }));
  }

  /** POSTs a form (application/x-www-form-urlencoded) with this client's Origin unless told otherwise. */
  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<PageResponse> {
    const url = `${this.base}${path}`;
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: this.base, ...this.cookieHeader(), ...headers },
      body: new URLSearchParams(form).toString(),
    });
    return this.record(url, res);
  }

  /** Signs in with the sign-in form; throws unless it redirects. */
  async signIn(username: string, password = ''): Promise<PageResponse> {
    const res = await this.post('/signin', { username, password, next: '/' });
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}: ${res.text.slice(0, 300)}`);
    return res;
  }
}

/** The CSRF token of a page's forms. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf field in the page');
  return m[1];
}

/** The file id in the list row of a file (from its delete/rename forms). */
export function fileIdOf(html: string, name: string): string {
  const esc = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const rowAt = html.indexOf(`<tr data-name="${esc}">`);
  if (rowAt < 0) throw new Error(`no row for ${name}`);
  const row = html.slice(rowAt, html.indexOf('</tr>', rowAt));
  const m = /name="id" value="([^"]+)"/.exec(row);
  if (!m?.[1]) throw new Error(`no id in the row of ${name}`);
  return m[1];
}

/** Names listed on a file list page, in order. */
export function namesOf(html: string): string[] {
  return [...html.matchAll(/<tr data-name="([^"]*)">/g)].map((m) => (m[1] ?? '').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

/** Decodes the HTML attribute escaping of a value. */
export function unescapeAttr(s: string): string {
  return s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
