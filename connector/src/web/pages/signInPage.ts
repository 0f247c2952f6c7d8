import type { SignInMode } from '../../config/config.js';
import { html, renderPage, type Html } from '../html.js';

/**
 * The sign-in page for the mode in force: name and password (webdav), name (+ shared password) in service mode,
 * or a button that starts Nextcloud's Login Flow v2.
 * @returns the HTML document
 */
export function renderSignInPage(o: {
  base: string;
  mode: SignInMode;
  next: string;
  /** Whether service mode asks for the shared password. */
  servicePassword: boolean;
  error?: string | null;
  info?: string | null;
  username?: string;
}): string {
  const msg: Html[] = [];
  if (o.error) msg.push(html`<p class="msg error" role="alert">${o.error}</p>`);
  if (o.info) msg.push(html`<p class="msg info">${o.info}</p>`);
  let form: Html;
  if (o.mode === 'nextcloud') {
    form = html`<form method="post" action="${o.base}/signin/nextcloud" class="signin"><input type="hidden" name="next" value="${o.next}"><p>Sign in on your Nextcloud's own page; this site then receives an app password for your files.</p><button type="submit">Sign in with Nextcloud</button></form>`;
  } else {
    const askPassword = o.mode === 'webdav' || o.servicePassword;
    form = html`<form method="post" action="${o.base}/signin" class="signin">
<input type="hidden" name="next" value="${o.next}">
<div class="field"><label for="username">${o.mode === 'service' ? 'Your name' : 'User name'}</label><input type="text" id="username" name="username" autocomplete="username" required maxlength="200" value="${o.username ?? ''}"></div>
${askPassword ? html`<div class="field"><label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024"></div>` : null}
<button type="submit">Sign in</button></form>`;
  }
  const body = html`<main><section class="card"><h1>Sign in</h1>${msg}${form}</section></main>`;
  return renderPage({ title: 'Sign in', base: o.base, body });
}

/**
 * The page shown while a Nextcloud login flow runs: a link to Nextcloud's page (new tab) and a script that polls
 * the bridge until the person has granted access.
 * @returns the HTML document
 */
export function renderNextcloudWaitPage(o: { base: string; loginUrl: string; next: string }): string {
  const body = html`<main><section class="card" id="nc-flow" data-poll="${o.base}/signin/nextcloud/poll" data-next="${o.next}"><h1>Sign in with Nextcloud</h1>
<p><a class="button" href="${o.loginUrl}" target="_blank" rel="noopener noreferrer">Open Nextcloud's sign-in page</a></p>
<p class="muted">Grant access there; this page continues by itself once you have.</p>
<p id="nc-status" class="msg info" role="status" aria-live="polite">Waiting for Nextcloud…</p>
<p><a href="${o.base}/signin?next=${encodeURIComponent(o.next)}">Start again</a></p></section></main>`;
  return renderPage({ title: 'Sign in with Nextcloud', base: o.base, body, scripts: ['nextcloud.js'] });
}
