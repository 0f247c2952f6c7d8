import { html, renderPage, type Html } from '../html.js';

/**
 * A page that explains something in plain words (an error, a file DS cannot open) with a link onwards.
 * @returns the HTML document
 */
export function renderMessagePage(o: {
  base: string;
  title: string;
  message: string;
  /** More words, e.g. what to do. */
  detail?: string;
  link?: { href: string; label: string };
  user?: { name: string; csrfToken: string } | null;
  reqId?: string;
}): string {
  const body: Html = html`<main><section class="card"><h1>${o.title}</h1><p>${o.message}</p>${o.detail ? html`<p class="muted">${o.detail}</p>` : null}${
    o.link ? html`<p><a class="button" href="${o.link.href}">${o.link.label}</a></p>` : null
  }${o.reqId ? html`<p class="muted">Request id: ${o.reqId}</p>` : null}</section></main>`;
  return renderPage({ title: o.title, base: o.base, body, user: o.user ?? null });
}
