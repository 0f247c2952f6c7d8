/**
 * Server-rendered HTML for the pages: escaping and the shared page frame. Every value from outside goes through
 * {@link escapeHtml}; pages carry no inline script except the host page's auto-submit, which has a per-response nonce.
 */

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** HTML already escaped (or built only from escaped parts). */
export interface Html {
  readonly html: string;
}

/** Marks a string as safe HTML. Only for strings built here from escaped parts. */
export function raw(html: string): Html {
  return { html };
}

/**
 * Template tag: interpolated values are escaped unless they are {@link Html} (or arrays of it).
 * @returns the joined, escaped HTML
 */
export function html(strings: TemplateStringsArray, ...values: Array<string | number | Html | Html[] | null | undefined | false>): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (v === null || v === undefined || v === false) out += '';
    else if (Array.isArray(v)) out += v.map((x) => x.html).join('');
    else if (typeof v === 'object') out += v.html;
    else out += escapeHtml(v);
    out += strings[i + 1] ?? '';
  });
  return { html: out };
}

/** What the page frame needs. */
export interface PageOptions {
  title: string;
  /** Path prefix of PUBLIC_URL ('' at the root): links and assets are made under it. */
  base: string;
  body: Html;
  /** Extra class on <body> (the host page fills the window). */
  bodyClass?: string;
  /** Static scripts under /web/assets/ (deferred). */
  scripts?: string[];
  /** An inline script, allowed by the response's CSP nonce. */
  inlineScript?: { nonce: string; code: string };
  /** Signed-in person's name and CSRF token: shows the header with sign-out. */
  user?: { name: string; csrfToken: string } | null;
}

/**
 * A whole HTML document in the pages' frame (header with the user and sign-out, main content).
 * @returns the document text
 */
export function renderPage(o: PageOptions): string {
  const scripts = (o.scripts ?? []).map((s) => html`<script src="${o.base}/web/assets/${s}" defer></script>`);
  const header = o.user
    ? html`<header class="top"><a class="brand" href="${o.base}/">Documents</a><span class="who">${o.user.name}</span><form method="post" action="${o.base}/signout" class="inline"><input type="hidden" name="csrf" value="${o.user.csrfToken}"><button type="submit" class="link">Sign out</button></form></header>`
    : html`<header class="top"><span class="brand">Documents</span></header>`;
  const inline = o.inlineScript ? html`<script nonce="${o.inlineScript.nonce}">${raw(o.inlineScript.code)}</script>` : null;
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${o.title}</title>
<link rel="stylesheet" href="${o.base}/web/assets/web.css">
${scripts}
</head>
<body class="${o.bodyClass ?? ''}">
${o.bodyClass === 'host' ? null : header}
${o.body}
${inline}
</body>
</html>
`;
  return page.html;
}
