import { html, renderPage } from '../html.js';

/** Name of the iframe the editor opens in (the form's target). */
export const OFFICE_FRAME = 'office_frame';

/**
 * The host page (reference §1.2): a form that POSTs access_token and access_token_ttl to DS's editor URL into a
 * full-page iframe, submitted at once by a script allowed through the response's CSP nonce. The token is in this
 * form and nowhere else: not in a URL, not in a data attribute, not in the script.
 * @returns the HTML document
 */
export function renderHostPage(o: { base: string; title: string; actionUrl: string; accessToken: string; accessTokenTtl: number; nonce: string }): string {
  const body = html`<form id="office_form" name="office_form" method="post" action="${o.actionUrl}" target="${OFFICE_FRAME}">
<input type="hidden" name="access_token" value="${o.accessToken}">
<input type="hidden" name="access_token_ttl" value="${o.accessTokenTtl}">
<noscript><p>Scripts are off: <button type="submit">Open the editor</button></p></noscript>
</form>
<iframe name="${OFFICE_FRAME}" id="${OFFICE_FRAME}" title="${o.title}" allowfullscreen allow="clipboard-read; clipboard-write; fullscreen"></iframe>`;
  return renderPage({
    title: o.title,
    base: o.base,
    body,
    bodyClass: 'host',
    inlineScript: { nonce: o.nonce, code: "document.getElementById('office_form').submit();" },
  });
}
