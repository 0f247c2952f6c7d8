/**
 * Values for the `<name=PLACEHOLDER&>` groups of a discovery `urlsrc`, keyed by the group's *name* (the part before
 * `=`, matched case-insensitively): `wopisrc`, `ui` (UI language, e.g. `en-US`), `rs` (data language), `thm`, `dchat`…
 * `undefined` and `''` mean "not given": the group is dropped.
 */
export interface UrlsrcParams {
  /** The WOPISrc, `{public base}/wopi/files/{fileId}` with no query string (reference §6, item 2). Required. */
  wopisrc: string;
  ui?: string;
  rs?: string;
  [name: string]: string | undefined;
}

/** `<name=PLACEHOLDER&>`; the `&` is optional, as in some Microsoft templates. */
const PLACEHOLDER = /<([^<>=]+)=[^<>]*>/g;

/**
 * Fills a discovery `urlsrc` template into the action URL the host page posts its form to
 * (reference §1.1 "urlsrc template", §6 item 1).
 *
 * Groups whose name is in `params` become `name=<value URL-encoded>`, other groups are dropped, text outside groups is
 * kept (`embed=1&`, `mobile=1&`). `wopisrc` is always set: templates without a `<wopisrc=…>` group (Microsoft's) get
 * `WOPISrc=` appended; DS lower-cases query keys, so both spellings reach it. Parameters that match no group are
 * ignored. The result has no empty query segments, no trailing `&` or `?`, and no leftover `<…>`.
 *
 * @param urlsrc - an action's `urlsrc` from discovery
 * @param params - placeholder values by group name; values are raw (this function encodes them)
 * @returns the expanded URL
 * @throws TypeError when `params.wopisrc` is empty
 */
export function expandUrlsrc(urlsrc: string, params: UrlsrcParams): string {
  if (!params.wopisrc) throw new TypeError('expandUrlsrc: params.wopisrc is required');
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') values.set(name.toLowerCase(), value);
  }

  let wopisrcFilled = false;
  const filled = urlsrc
    .replace(PLACEHOLDER, (_group: string, rawName: string) => {
      const name = rawName.trim();
      const value = values.get(name.toLowerCase());
      if (value === undefined) return '';
      if (name.toLowerCase() === 'wopisrc') wopisrcFilled = true;
      return `${name}=${encodeURIComponent(value)}&`;
    })
    .replace(/<[^<>]*>/g, '');

  const q = filled.indexOf('?');
  const base = q < 0 ? filled : filled.slice(0, q);
  const segments = (q < 0 ? '' : filled.slice(q + 1)).split('&').filter((s) => s !== '');
  if (!wopisrcFilled) segments.push(`WOPISrc=${encodeURIComponent(params.wopisrc)}`);
  return `${base}?${segments.join('&')}`;
}
