// The admin page: sign-in, the settings form, the check runs (streamed as NDJSON) with this browser's own check of
// DocumentServer's api.js, and the background runs. It talks only to /admin/api. Server text (check summaries,
// details, fixes, error lines) is only ever put into the page with textContent, never parsed as HTML; there are no
// inline scripts, styles or event handlers (the page's CSP forbids them).
import { LANGUAGES, MESSAGES, STORAGE_KEY, format, pickLanguage } from './i18n.js';

// ---------------------------------------------------------------------------------------------------------------
// Constants

/** `/admin/` of wherever this script was loaded from (`/admin/assets/app.js`). */
const ADMIN_ROOT = new URL('../', import.meta.url);
const API_ROOT = new URL('api/', ADMIN_ROOT);

/** How long this browser waits for DocumentServer's api.js. */
export const BROWSER_CHECK_TIMEOUT_MS = 10_000;
export const BROWSER_CHECK_ID = 'browser_docs_api';
const API_JS_PATH = '/web-apps/apps/api/documents/api.js';

/** How the settings are grouped on the page; keys the server sends beyond these go to "Other settings". */
const LAYOUT = [
  {
    id: 'docs',
    title: 'group.docs',
    intro: 'group.docs.intro',
    keys: ['DOCS_URL', 'DOCS_PUBLIC_URL', 'DOCS_INTERNAL_URL', 'PUBLIC_URL', 'DOCS_JWT_SECRET', 'DOCS_JWT_HEADER'],
    advanced: { title: 'group.docs.advanced', keys: ['DOCS_TLS_VERIFY', 'DOCS_CA_FILE', 'WOPI_PROOF_MODE', 'DOCS_NODE_URLS'] },
  },
  {
    id: 'drive',
    title: 'group.drive',
    intro: 'group.drive.intro',
    keys: ['STORAGE_URL', 'STORAGE_FLAVOUR', 'STORAGE_USER', 'STORAGE_PASSWORD'],
    sub: { title: 'group.drive.admin', intro: 'group.drive.adminIntro', keys: ['STORAGE_ADMIN_USER', 'STORAGE_ADMIN_PASSWORD'] },
  },
  {
    id: 'signin',
    title: 'group.signin',
    intro: 'group.signin.intro',
    keys: ['SIGN_IN_MODE', 'SIGN_IN_PASSWORD', 'SESSION_TTL_SECONDS', 'EDITABLE_FORMATS'],
  },
  {
    id: 'service',
    title: 'group.service',
    keys: ['CHECK_INTERVAL_MINUTES', 'REDIS_URL', 'LOG_LEVEL'],
    advanced: { title: 'group.service.advanced', keys: ['HEADERS_TIMEOUT_MS', 'BODY_IDLE_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS', 'TRUSTED_PROXIES'] },
  },
];

/** Input kind of each known setting. `options`: a select (plus "Default"); `default`: the value when unset. */
const INPUTS = {
  PUBLIC_URL: { type: 'url', placeholder: 'https://bridge.example.com' },
  DOCS_URL: { type: 'url', placeholder: 'https://docs.example.com' },
  DOCS_PUBLIC_URL: { type: 'url', placeholder: 'https://docs.example.com' },
  DOCS_INTERNAL_URL: { type: 'url', placeholder: 'http://documentserver' },
  DOCS_JWT_HEADER: { type: 'text', placeholder: 'Authorization', default: 'Authorization' },
  DOCS_TLS_VERIFY: { options: ['true', 'false'], default: 'true' },
  DOCS_CA_FILE: { type: 'text', placeholder: '/etc/ssl/certs/documentserver-ca.pem' },
  WOPI_PROOF_MODE: { options: ['auto', 'enforce', 'off'], default: 'auto' },
  DOCS_NODE_URLS: { type: 'text', placeholder: 'http://ds-1:8000, http://ds-2:8000' },
  STORAGE_URL: { type: 'url', placeholder: 'https://cloud.example.com/remote.php/dav/files/wopi/' },
  STORAGE_FLAVOUR: { options: ['auto', 'nextcloud', 'owncloud', 'generic'], default: 'auto' },
  STORAGE_USER: { type: 'text' },
  STORAGE_ADMIN_USER: { type: 'text' },
  CHECK_INTERVAL_MINUTES: { type: 'number', placeholder: '15', default: '15' },
  LOG_LEVEL: { options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  SIGN_IN_MODE: { options: ['auto', 'webdav', 'nextcloud', 'service'], default: 'auto' },
  SESSION_TTL_SECONDS: { type: 'number', placeholder: '43200', default: '43200' },
  EDITABLE_FORMATS: { type: 'text', placeholder: 'docx, xlsx, pptx, odt' },
  HEADERS_TIMEOUT_MS: { type: 'number', placeholder: '30000', default: '30000' },
  BODY_IDLE_TIMEOUT_MS: { type: 'number', placeholder: '30000', default: '30000' },
  REQUEST_TIMEOUT_MS: { type: 'number', placeholder: '3600000', default: '3600000' },
};

const STATUSES = ['ok', 'warn', 'fail', 'skipped'];

// ---------------------------------------------------------------------------------------------------------------
// State

const state = {
  lang: 'en',
  csrf: null,
  signedIn: false,
  /** Fields as the server sent them (GET /admin/api/settings). */
  fields: [],
  restartRequired: false,
  /** Secret keys marked "clear". */
  clearing: new Set(),
  /** The current or last check run shown in "Checks". */
  run: null,
  /** Ids whose <details> the admin opened (kept across re-renders). */
  open: new Set(),
  /** Banners: { kind: 'ok'|'warn'|'fail'|'info', key?, args?, text?, list?, id } */
  banners: [],
  /** GET /admin/api/checks/last */
  background: null,
  backgroundError: false,
  abort: null,
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------------------------
// Words

/** A message; an argument given as `{ $t: key }` is itself a message (translated on every language switch). */
function t(key, args) {
  const table = MESSAGES[state.lang] ?? MESSAGES.en;
  const template = table[key] ?? MESSAGES.en[key] ?? key;
  if (!args) return template;
  const resolved = {};
  for (const [name, value] of Object.entries(args)) resolved[name] = value && typeof value === 'object' && typeof value.$t === 'string' ? t(value.$t) : value;
  return format(template, resolved);
}

/** The title of a check: translated when known, else what the server called it, else its id. */
function checkTitle(id, serverTitle) {
  const key = `check.${id}`;
  if (MESSAGES[state.lang]?.[key] ?? MESSAGES.en[key]) return t(key);
  return serverTitle || id;
}

/** Sets a node's text from a message key and remembers the key, so a language switch can redo it. */
function setText(node, key, args) {
  node.dataset.i18n = key;
  if (args) node.dataset.i18nArgs = JSON.stringify(args);
  else delete node.dataset.i18nArgs;
  node.textContent = t(key, args);
  return node;
}

/** Sets an attribute from a message key (re-applied on a language switch). */
function setAttr(node, attr, key, args) {
  const spec = JSON.parse(node.dataset.i18nAttrs ?? '{}');
  spec[attr] = args ? [key, args] : [key];
  node.dataset.i18nAttrs = JSON.stringify(spec);
  node.setAttribute(attr, t(key, args));
  return node;
}

/** Re-applies every message key in the document. */
function translateDocument() {
  for (const node of document.querySelectorAll('[data-i18n]')) {
    const args = node.dataset.i18nArgs ? JSON.parse(node.dataset.i18nArgs) : undefined;
    node.textContent = t(node.dataset.i18n, args);
  }
  for (const node of document.querySelectorAll('[data-i18n-attrs]')) {
    for (const [attr, [key, args]] of Object.entries(JSON.parse(node.dataset.i18nAttrs))) node.setAttribute(attr, t(key, args));
  }
}

function formatMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
  if (ms < 1000) return t('time.ms', { n: Math.round(ms) });
  return t('time.s', { n: new Intl.NumberFormat(state.lang, { maximumFractionDigits: 1 }).format(ms / 1000) });
}

function formatTime(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return new Intl.DateTimeFormat(state.lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

function isoTime(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : d.toISOString();
}

function formatAgo(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '';
  const s = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(state.lang, { numeric: 'auto' });
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

function setLanguage(code, remember) {
  state.lang = MESSAGES[code] ? code : 'en';
  document.documentElement.lang = state.lang;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, state.lang);
    } catch {
      // storage may be off; the choice then lasts for this page only
    }
  }
  const select = $('lang');
  if (select.value !== state.lang) select.value = state.lang;
  document.title = t('app.title');
  translateDocument();
  renderBanners();
  renderResults();
  renderBackground();
  updateButtons();
}

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers

/**
 * Creates an element. `text` is set with textContent (server text goes here); `i18n` is a message key.
 * @param {string} tag
 * @param {{class?: string, text?: string, i18n?: string, args?: object, attrs?: Record<string,string>}} [o]
 * @param {Array<Node|string|null|undefined|false>} [children]
 */
function h(tag, o = {}, children = []) {
  const node = document.createElement(tag);
  if (o.class) node.className = o.class;
  if (o.attrs) for (const [k, v] of Object.entries(o.attrs)) if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  if (o.i18n) setText(node, o.i18n, o.args);
  else if (o.text !== undefined) node.textContent = o.text;
  for (const c of children) if (c) node.append(c);
  return node;
}

function badge(status) {
  const known = ['ok', 'warn', 'fail', 'skipped', 'running', 'pending'].includes(status) ? status : 'skipped';
  const node = h('span', { class: `badge badge-${known}`, i18n: `status.${known}` });
  if (known === 'running') node.prepend(h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }));
  return node;
}

/** Copies text; falls back to selecting `selectNode` and execCommand on pages without the clipboard API. */
async function copyText(text, selectNode) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection
  }
  try {
    const range = document.createRange();
    range.selectNodeContents(selectNode);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

function copyButton(getText, selectNode, labelKey = 'action.copyLabel') {
  const btn = h('button', { class: 'btn btn-small btn-copy', attrs: { type: 'button' }, i18n: 'action.copy' });
  setAttr(btn, 'aria-label', labelKey);
  btn.addEventListener('click', async () => {
    const ok = await copyText(getText(), selectNode);
    setText(btn, ok ? 'action.copied' : 'action.copyFailed');
    btn.classList.toggle('copied', ok);
    setTimeout(() => {
      if (btn.isConnected) {
        setText(btn, 'action.copy');
        btn.classList.remove('copied');
      }
    }, 2000);
  });
  return btn;
}

/** Inline text with `code` spans; a long command in backticks gets its own copy button. */
function inlineText(line) {
  const frag = document.createDocumentFragment();
  const parts = line.split('`');
  // An odd number of backticks: treat the text literally.
  if (parts.length % 2 === 0) {
    frag.append(line);
    return frag;
  }
  parts.forEach((part, i) => {
    if (i % 2 === 0) {
      if (part) frag.append(part);
      return;
    }
    const code = h('code', { text: part });
    if (part.length >= 40 && /\s/.test(part)) {
      // a long command: on a line of its own, scrollable, with a copy button
      frag.append(h('span', { class: 'cmd-block' }, [code, copyButton(() => part, code)]));
    } else if (part.length >= 24 && /\s/.test(part)) {
      frag.append(h('span', { class: 'inline-cmd' }, [code, copyButton(() => part, code)]));
    } else frag.append(code);
  });
  return frag;
}

/** JSON nesting depth change over one line, outside strings. */
function depthChange(line, st) {
  let d = 0;
  for (const ch of line) {
    if (st.inString) {
      if (st.escape) st.escape = false;
      else if (ch === '\\') st.escape = true;
      else if (ch === '"') st.inString = false;
    } else if (ch === '"') st.inString = true;
    else if (ch === '{' || ch === '[') d += 1;
    else if (ch === '}' || ch === ']') d -= 1;
  }
  return d;
}

/**
 * Server text (a fix, a detail) as blocks: JSON snippets (a line opening `{` or `[` up to the line that closes it)
 * and indented or `$ ` lines become <pre> with a copy button; `• `/`- ` lines a list; other lines paragraphs.
 * Everything goes in as text.
 * @param {string} text
 */
function richText(text) {
  const root = h('div', { class: 'rich' });
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let list = null;
  const codeBlock = (codeLines) => {
    const codeText = codeLines.join('\n');
    const code = h('code', { text: codeText });
    const pre = h('pre', {}, [code]);
    root.append(h('div', { class: 'code-block' }, [pre, copyButton(() => codeText, code)]));
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (trimmed === '') {
      list = null;
      continue;
    }
    if (trimmed === '{' || trimmed === '[' || /^[{[]\s*"/.test(trimmed)) {
      const st = { inString: false, escape: false };
      let depth = depthChange(line, st);
      const block = [line];
      while (depth > 0 && i + 1 < lines.length) {
        i += 1;
        block.push(lines[i]);
        depth += depthChange(lines[i], st);
      }
      codeBlock(block);
      continue;
    }
    if (/^( {4}|\t|\$ )/.test(line)) {
      const block = [line];
      while (i + 1 < lines.length && /^( {4}|\t|\$ )/.test(lines[i + 1])) block.push(lines[++i]);
      codeBlock(block);
      continue;
    }
    const bullet = /^\s*(?:[•*-]|\d+[.)])\s+(.*)$/.exec(line);
    if (bullet) {
      if (!list) {
        list = h('ul');
        root.append(list);
      }
      list.append(h('li', {}, [inlineText(bullet[1])]));
      continue;
    }
    list = null;
    root.append(h('p', {}, [inlineText(line)]));
  }
  return root;
}

// ---------------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(kind, status, message) {
    super(message || kind);
    this.kind = kind; // network | auth | csrf | http
    this.status = status;
  }
}

/** A one-line reason from an error response (the server writes one short text line). */
async function errorText(res) {
  try {
    const text = (await res.text()).trim();
    return text.split('\n')[0].slice(0, 300);
  } catch {
    return '';
  }
}

/**
 * Calls the admin API. POSTs carry the CSRF token (except sign-in). A 401 outside sign-in ends the session on the
 * page. referrerPolicy same-origin: under the page's own no-referrer policy the Fetch standard has a POST carry
 * `Origin: null`, which the API refuses as cross-site (Chromium sends the origin anyway; other browsers need not).
 */
async function api(path, { method = 'GET', body, accept = 'application/json', signal } = {}) {
  const headers = { Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && path !== 'login' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let res;
  try {
    res = await fetch(new URL(path, API_ROOT), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      referrerPolicy: 'same-origin',
      signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError('network', 0, e && e.message ? e.message : String(e));
  }
  if (res.status === 401 && path !== 'login') {
    sessionEnded();
    throw new ApiError('auth', 401, await errorText(res));
  }
  if (res.status === 403 && method !== 'GET') throw new ApiError('csrf', 403, await errorText(res));
  return res;
}

async function apiJson(path, options) {
  const res = await api(path, options);
  if (!res.ok) throw new ApiError('http', res.status, await errorText(res));
  return res.json();
}

/** A banner for an API error. */
function errorBanner(e) {
  if (e.kind === 'network') return { kind: 'fail', key: 'error.network', args: { msg: e.message } };
  if (e.kind === 'csrf') return { kind: 'fail', key: 'error.csrf', reload: true };
  if (e.kind === 'stream') return { kind: 'fail', key: 'error.stream', args: { msg: e.message } };
  return e.message && e.message !== 'http'
    ? { kind: 'fail', key: 'error.httpMsg', args: { status: e.status, msg: e.message } }
    : { kind: 'fail', key: 'error.http', args: { status: e.status } };
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in

function showOnly(which) {
  $('boot').hidden = true;
  $('signin').hidden = which !== 'signin';
  $('app').hidden = which !== 'app';
  $('signout').hidden = which !== 'app';
}

function showSignIn(messageKey) {
  state.signedIn = false;
  state.csrf = null;
  showOnly('signin');
  const err = $('signin-error');
  if (messageKey) setText(err, messageKey);
  else {
    delete err.dataset.i18n;
    err.textContent = '';
  }
  $('signin-password').value = '';
  $('signin-password').focus();
}

/** The server no longer knows the session: forget everything shown and ask for the password. */
function sessionEnded() {
  if (!state.signedIn) return;
  clearApp();
  showSignIn('signin.expired');
}

/** Removes settings and results from the page (sign-out, expired session). */
function clearApp() {
  state.abort?.abort();
  state.abort = null;
  state.fields = [];
  state.clearing.clear();
  state.run = null;
  state.banners = [];
  state.background = null;
  $('fields').replaceChildren();
  renderBanners();
  renderResults();
  renderBackground();
  updateButtons();
}

async function signIn(event) {
  event.preventDefault();
  const input = $('signin-password');
  const err = $('signin-error');
  const button = $('signin-submit');
  if (input.value === '') {
    setText(err, 'signin.empty');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  button.disabled = true;
  setText(button, 'signin.busy');
  try {
    const res = await api('login', { method: 'POST', body: { password: input.value } });
    if (res.status === 401) {
      setText(err, 'signin.wrong');
      input.setAttribute('aria-invalid', 'true');
      input.select();
      return;
    }
    if (res.status === 429) {
      const s = Number(res.headers.get('Retry-After'));
      if (Number.isFinite(s) && s > 0) setText(err, 'signin.rateLimited', { s: Math.ceil(s) });
      else setText(err, 'signin.rateLimitedLater');
      return;
    }
    if (!res.ok) {
      const msg = await errorText(res);
      if (msg) setText(err, 'error.httpMsg', { status: res.status, msg });
      else setText(err, 'error.http', { status: res.status });
      return;
    }
    const body = await res.json();
    input.value = '';
    input.removeAttribute('aria-invalid');
    delete err.dataset.i18n;
    err.textContent = '';
    await enterApp(body.csrfToken);
  } catch (e) {
    if (e instanceof ApiError) setText(err, e.kind === 'network' ? 'error.network' : 'error.http', { msg: e.message, status: e.status });
    else throw e;
  } finally {
    button.disabled = false;
    setText(button, 'signin.submit');
  }
}

async function signOut() {
  try {
    await api('logout', { method: 'POST' });
  } catch {
    // signed out on the page in any case
  }
  clearApp();
  showSignIn('signin.signedOut');
}

async function enterApp(csrfToken) {
  state.csrf = csrfToken ?? null;
  state.signedIn = true;
  showOnly('app');
  await loadSettings();
  loadBackground();
  // focus moves to the page (not into a field: on a phone that would pop up the keyboard)
  $('main').focus();
}

// ---------------------------------------------------------------------------------------------------------------
// Settings form

async function loadSettings() {
  try {
    const body = await apiJson('settings');
    state.fields = Array.isArray(body.fields) ? body.fields : [];
    state.restartRequired = body.restartRequired;
    state.clearing.clear();
    buildForm();
    setRestartBanner(body.restartRequired);
  } catch (e) {
    if (e instanceof ApiError && e.kind !== 'auth') {
      addBanner({ ...errorBanner(e), id: 'settings-error', key: e.kind === 'network' ? 'error.network' : 'error.settings', retry: true });
    } else if (!(e instanceof ApiError)) throw e;
  }
}

function fieldLabelKey(key) {
  return MESSAGES.en[`field.${key}.label`] ? `field.${key}.label` : null;
}

/** The form, built once per settings load (language switches only re-translate it). */
function buildForm() {
  const container = $('fields');
  container.replaceChildren();
  const byKey = new Map(state.fields.map((f) => [f.key, f]));
  const used = new Set();
  const take = (keys) =>
    keys
      .filter((k) => byKey.has(k))
      .map((k) => {
        used.add(k);
        return fieldRow(byKey.get(k));
      });

  for (const group of LAYOUT) {
    const rows = take(group.keys);
    const fs = h('fieldset', { class: 'group card', attrs: { id: `group-${group.id}` } }, [h('legend', { i18n: group.title })]);
    if (group.intro) fs.append(h('p', { class: 'group-intro muted', i18n: group.intro }));
    fs.append(...rows);
    if (group.sub) {
      const subRows = take(group.sub.keys);
      if (subRows.length > 0) {
        fs.append(h('div', { class: 'subgroup' }, [h('h3', { i18n: group.sub.title }), h('p', { class: 'muted small', i18n: group.sub.intro }), ...subRows]));
      }
    }
    if (group.advanced) {
      const advRows = take(group.advanced.keys);
      if (advRows.length > 0) {
        const changed = group.advanced.keys.some((k) => byKey.get(k) && byKey.get(k).source !== 'default');
        const details = h('details', { class: 'advanced', attrs: { open: changed } }, [h('summary', { i18n: group.advanced.title }), ...advRows]);
        fs.append(details);
      }
    }
    if (rows.length > 0 || fs.querySelector('.field')) container.append(fs);
  }
  const rest = state.fields.filter((f) => !used.has(f.key));
  if (rest.length > 0) {
    container.append(h('fieldset', { class: 'group card', attrs: { id: 'group-other' } }, [h('legend', { i18n: 'group.other' }), ...rest.map(fieldRow)]));
  }
  updateButtons();
}

/** The description of a field: translated when known, else the server's. */
function helpNode(f) {
  const key = `field.${f.key}.help`;
  if (MESSAGES.en[key]) return h('p', { class: 'help', i18n: key, attrs: { id: `help-${f.key}` } });
  return h('p', { class: 'help', text: f.description ?? '', attrs: { id: `help-${f.key}` } });
}

function labelNode(f, forId) {
  const key = fieldLabelKey(f.key);
  const label = h('label', { attrs: { for: forId } });
  label.append(key ? h('span', { i18n: key }) : h('span', { text: f.key }));
  return label;
}

function fieldRow(f) {
  const spec = INPUTS[f.key] ?? { type: 'text' };
  const id = `f-${f.key}`;
  const row = h('div', { class: 'field', attrs: { 'data-key': f.key } });
  const head = h('div', { class: 'field-head' }, [labelNode(f, id)]);
  const badges = h('span', { class: 'field-badges' });
  head.append(badges);
  row.append(head);

  const describedBy = [`help-${f.key}`];
  if (f.locked) {
    const lock = h('span', { class: 'tag tag-locked', attrs: { id: `lock-${f.key}` } }, [
      h('span', { class: 'lock-icon', attrs: { 'aria-hidden': 'true' } }),
      h('span', { i18n: 'field.locked' }),
    ]);
    setAttr(lock, 'title', 'field.lockedTitle', { key: f.key });
    badges.append(lock);
    describedBy.push(`lock-${f.key}`);
  }

  let control;
  if (f.secret) {
    const secret = secretControl(f, id, badges, describedBy);
    control = secret.input;
    row.append(secret.wrap);
  } else if (spec.options) {
    control = h('select', { attrs: { id, name: f.key, disabled: !!f.locked } });
    const def = spec.default ?? (f.source === 'default' ? f.value : null);
    const defOpt = h('option', { attrs: { value: '' } });
    if (def) setText(defOpt, 'opt.defaultValue', { value: MESSAGES.en[`opt.${f.key}.${def}`] ? { $t: `opt.${f.key}.${def}` } : def });
    else setText(defOpt, 'opt.default');
    control.append(defOpt);
    const values = [...spec.options];
    if (f.value && !values.includes(String(f.value).toLowerCase())) values.push(String(f.value));
    for (const v of values) {
      const opt = h('option', { attrs: { value: v } });
      if (MESSAGES.en[`opt.${f.key}.${v}`]) setText(opt, `opt.${f.key}.${v}`);
      else opt.textContent = v;
      control.append(opt);
    }
    control.value = f.source === 'default' || f.value === null || f.value === undefined ? '' : String(f.value).toLowerCase();
    if (control.value === '' && f.value && f.source !== 'default') control.value = String(f.value);
    row.append(control);
  } else {
    control = h('input', {
      attrs: {
        id,
        name: f.key,
        type: spec.type === 'url' ? 'url' : 'text',
        inputmode: spec.type === 'url' ? 'url' : spec.type === 'number' ? 'numeric' : undefined,
        pattern: spec.type === 'number' ? '[0-9]*' : undefined,
        autocomplete: 'off',
        autocapitalize: 'off',
        spellcheck: 'false',
        disabled: !!f.locked,
        placeholder: f.source === 'default' && f.value ? String(f.value) : (spec.placeholder ?? ''),
      },
    });
    control.value = f.source === 'default' || f.value === null || f.value === undefined ? '' : String(f.value);
    row.append(control);
  }
  if (f.source === 'file' && !f.locked && !f.secret) {
    const saved = h('span', { class: 'tag', i18n: 'field.source.file' });
    setAttr(saved, 'title', 'field.source.fileTitle');
    badges.append(saved);
  }
  control.setAttribute('aria-describedby', [...describedBy, `err-${f.key}`].join(' '));
  row.append(helpNode(f));
  row.append(h('p', { class: 'field-error', attrs: { id: `err-${f.key}`, role: 'alert' } }));
  control.addEventListener('input', () => clearFieldError(f.key));
  return row;
}

function secretControl(f, id, badges, describedBy) {
  const setBadge = h('span', { class: `tag ${f.set ? 'tag-set' : 'tag-unset'}`, attrs: { id: `state-${f.key}`, 'data-secret-state': f.set ? 'set' : 'not-set' } });
  setText(setBadge, f.set ? 'field.secret.set' : 'field.secret.notSet');
  badges.prepend(setBadge);
  describedBy.push(`state-${f.key}`);

  const input = h('input', {
    attrs: {
      id,
      name: f.key,
      type: 'password',
      autocomplete: 'new-password',
      autocapitalize: 'off',
      spellcheck: 'false',
      disabled: !!f.locked,
      'data-secret': 'true',
    },
  });
  setAttr(input, 'placeholder', f.set ? 'field.secret.placeholderSet' : 'field.secret.placeholderNotSet');
  const wrap = h('div', { class: 'secret-wrap' }, [input]);
  if (!f.locked) {
    const labelKey = fieldLabelKey(f.key);
    const label = () => ({ label: labelKey ? { $t: labelKey } : f.key });
    const show = h('button', { class: 'btn btn-small btn-quiet', attrs: { type: 'button', 'aria-pressed': 'false' }, i18n: 'field.secret.show' });
    setAttr(show, 'aria-label', 'field.secret.showLabel', label());
    show.addEventListener('click', () => {
      const showing = input.type === 'text';
      input.type = showing ? 'password' : 'text';
      show.setAttribute('aria-pressed', String(!showing));
      setText(show, showing ? 'field.secret.show' : 'field.secret.hide');
    });
    wrap.append(show);
    if (f.set) {
      const clear = h('button', { class: 'btn btn-small btn-quiet btn-clear', attrs: { type: 'button', 'aria-pressed': 'false' }, i18n: 'field.secret.clear' });
      setAttr(clear, 'aria-label', 'field.secret.clearLabel', label());
      clear.addEventListener('click', () => {
        const clearing = !state.clearing.has(f.key);
        if (clearing) state.clearing.add(f.key);
        else state.clearing.delete(f.key);
        input.value = '';
        input.disabled = clearing;
        clear.setAttribute('aria-pressed', String(clearing));
        setText(clear, clearing ? 'field.secret.keep' : 'field.secret.clear');
        setAttr(clear, 'aria-label', clearing ? 'field.secret.keepLabel' : 'field.secret.clearLabel', label());
        setText(setBadge, clearing ? 'field.secret.willClear' : 'field.secret.set');
        setBadge.className = `tag ${clearing ? 'tag-clear' : 'tag-set'}`;
        setAttr(input, 'placeholder', clearing ? 'field.secret.placeholderClear' : 'field.secret.placeholderSet');
        clear.focus();
      });
      wrap.append(clear);
    }
  }
  return { input, wrap };
}

/** Values to send: every field not set by the environment. A secret left empty is sent as "" (unchanged); a cleared one as null. */
function collectSettings() {
  const out = {};
  const form = $('settings-form');
  for (const f of state.fields) {
    if (f.locked) continue;
    const control = form.elements.namedItem(f.key);
    if (!control) continue;
    if (f.secret) out[f.key] = state.clearing.has(f.key) ? null : control.value;
    else out[f.key] = control.value.trim();
  }
  return out;
}

/** DocumentServer's public URL as the form says (public address, else the address). */
function publicDocsUrl() {
  const form = $('settings-form');
  const value = (key) => {
    const c = form.elements.namedItem(key);
    const f = state.fields.find((x) => x.key === key);
    const v = c && c.value ? c.value.trim() : '';
    if (v) return v;
    return f && f.source === 'default' && f.value ? String(f.value) : '';
  };
  return value('DOCS_PUBLIC_URL') || value('DOCS_URL');
}

function clearFieldError(key) {
  const err = $(`err-${key}`);
  if (!err) return;
  err.textContent = '';
  document.querySelector(`[data-key="${key}"]`)?.classList.remove('has-error');
  $(`f-${key}`)?.removeAttribute('aria-invalid');
}

/** Config problems: strings, or { key?, message } objects; those naming a field are shown at the field too. */
function showConfigProblems(problems) {
  const list = [];
  for (const p of problems) {
    const text = typeof p === 'string' ? p : (p && (p.message ?? p.problem)) || JSON.stringify(p);
    list.push(text);
    const key = typeof p === 'object' && p ? p.key : state.fields.find((f) => new RegExp(`\\b${f.key}\\b`).test(text))?.key;
    const err = key ? $(`err-${key}`) : null;
    if (err) {
      err.textContent = text;
      document.querySelector(`[data-key="${key}"]`)?.classList.add('has-error');
      $(`f-${key}`)?.setAttribute('aria-invalid', 'true');
    }
  }
  addBanner({ id: 'config', kind: 'fail', key: 'banner.configProblems', list });
}

// ---------------------------------------------------------------------------------------------------------------
// Banners

function addBanner(b) {
  state.banners = state.banners.filter((x) => x.id !== b.id);
  state.banners.push(b);
  renderBanners();
}

function removeBanner(id) {
  state.banners = state.banners.filter((x) => x.id !== id);
  renderBanners();
}

function setRestartBanner(restartRequired) {
  const keys = Array.isArray(restartRequired) ? restartRequired.filter((k) => typeof k === 'string') : [];
  if (keys.length > 0) addBanner({ id: 'restart', kind: 'warn', key: 'banner.restartKeys', args: { keys: keys.join(', ') } });
  else if (restartRequired === true) addBanner({ id: 'restart', kind: 'warn', key: 'banner.restart' });
  else removeBanner('restart');
}

function renderBanners() {
  const root = $('banners');
  root.replaceChildren(
    ...state.banners.map((b) => {
      const node = h('div', { class: `banner banner-${b.kind}`, attrs: { 'data-banner': b.id, role: b.kind === 'fail' ? 'alert' : 'status' } });
      const body = h('div', { class: 'banner-body' }, [h('p', { i18n: b.key, args: b.args })]);
      if (b.list && b.list.length > 0) body.append(h('ul', {}, b.list.map((text) => h('li', { text }))));
      node.append(body);
      const actions = h('div', { class: 'banner-actions' });
      if (b.retry) {
        const retry = h('button', { class: 'btn btn-small', attrs: { type: 'button' }, i18n: 'action.retry' });
        retry.addEventListener('click', () => {
          removeBanner(b.id);
          loadSettings();
        });
        actions.append(retry);
      }
      if (b.reload) {
        const reload = h('button', { class: 'btn btn-small', attrs: { type: 'button' }, i18n: 'action.reload' });
        reload.addEventListener('click', () => location.reload());
        actions.append(reload);
      }
      if (b.id !== 'restart') {
        const close = h('button', { class: 'btn btn-small btn-quiet btn-icon', attrs: { type: 'button' }, text: '×' });
        setAttr(close, 'aria-label', 'banner.dismiss');
        close.addEventListener('click', () => removeBanner(b.id));
        actions.append(close);
      }
      node.append(actions);
      return node;
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Check runs

function newRun(save) {
  return {
    save,
    running: true,
    /** ids in the order the server started them */
    order: [],
    titles: new Map(),
    results: new Map(),
    started: new Set(),
    serverTotal: null,
    serverDone: 0,
    browserDone: false,
    saved: null,
    ms: null,
    startedAt: performance.now(),
  };
}

/** The ids to show, in order: the server's, with this browser's check after "DocumentServer reachable". */
function runOrder(run) {
  const ids = [...run.order];
  const at = ids.indexOf('docs_reachable');
  ids.splice(at >= 0 ? at + 1 : ids.length, 0, BROWSER_CHECK_ID);
  return ids;
}

function runTotals(run) {
  const total = (run.serverTotal ?? Math.max(run.order.length, 1)) + 1;
  const done = run.serverDone + (run.browserDone ? 1 : 0);
  return { done: Math.min(done, total), total };
}

function updateButtons() {
  const running = !!state.run?.running;
  for (const id of ['btn-check', 'btn-save']) {
    const btn = $(id);
    const mine = running && (id === 'btn-save') === state.run.save;
    btn.disabled = running || state.fields.length === 0;
    btn.classList.toggle('busy', mine);
    btn.setAttribute('aria-busy', String(mine));
    const label = btn.querySelector('.btn-label');
    if (mine) {
      const { done, total } = runTotals(state.run);
      setText(label, 'action.checking', { done, total });
    } else setText(label, id === 'btn-save' ? 'action.save' : 'action.check');
  }
}

async function startRun(save) {
  if (state.run?.running || state.fields.length === 0) return;
  for (const f of state.fields) clearFieldError(f.key);
  removeBanner('config');
  removeBanner('run-result');
  removeBanner('run-error');
  const settings = collectSettings();
  const run = newRun(save);
  state.run = run;
  const controller = new AbortController();
  state.abort = controller;
  renderResults();
  updateButtons();

  const browser = browserDocsApiCheck(publicDocsUrl()).then((result) => {
    run.results.set(BROWSER_CHECK_ID, result);
    run.browserDone = true;
    if (state.run === run) {
      renderRow(BROWSER_CHECK_ID);
      renderProgress();
      updateButtons();
    }
  });

  let final = null;
  try {
    const res = await api('checks', { method: 'POST', body: { settings, save }, accept: 'application/x-ndjson', signal: controller.signal });
    if (!res.ok && res.status !== 400 && res.status !== 422) throw new ApiError('http', res.status, await errorText(res));
    const type = res.headers.get('Content-Type') ?? '';
    if (type.includes('ndjson') && res.body) {
      final = await readStream(res.body, run);
    } else if (type.includes('json')) {
      const body = await res.json();
      final = { kind: 'done', ...body };
    } else {
      throw new ApiError('http', res.status, await errorText(res));
    }
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    if (e instanceof ApiError) {
      if (e.kind !== 'auth') addBanner({ ...errorBanner(e), id: 'run-error' });
    } else addBanner({ id: 'run-error', kind: 'fail', key: 'error.stream', args: { msg: e && e.message ? e.message : String(e) } });
  }
  if (state.run !== run) return;
  if (final) applyFinal(run, final);
  else if (run.order.length === 0) run.serverTotal = 0;
  await browser;
  if (state.run !== run) return;
  run.running = false;
  run.ms = performance.now() - run.startedAt;
  state.abort = null;
  renderResults();
  updateButtons();
  announceRun(run);
  if (final && final.saved) {
    // the secrets were taken: reload the form (badges "set", empty inputs) and the background view
    await loadSettings();
    setRestartBanner(final.restartRequired);
    showSavedBanner(final);
  } else if (final) {
    showSavedBanner(final);
  }
  loadBackground();
  // for tests and scripts: how many runs this page has finished
  const section = $('results');
  section.dataset.runs = String(Number(section.dataset.runs ?? '0') + 1);
}

function showSavedBanner(final) {
  const problems = Array.isArray(final.configProblems) ? final.configProblems : [];
  if (problems.length > 0) {
    showConfigProblems(problems);
    if (state.run?.save) addBanner({ id: 'run-result', kind: 'fail', key: 'banner.notSaved' });
    return;
  }
  if (final.saved) addBanner({ id: 'run-result', kind: 'ok', key: 'banner.saved' });
  else if (state.run?.save) addBanner({ id: 'run-result', kind: 'fail', key: 'banner.notSaved' });
  else addBanner({ id: 'run-result', kind: 'info', key: 'banner.checkedUnsaved' });
}

/** Reads NDJSON events until the final one. */
async function readStream(stream, run) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let final = null;
  const handle = (line) => {
    if (line.trim() === '') return;
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.kind === 'done') final = event;
    else onProgress(run, event);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      handle(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  handle(buffer);
  if (!final) throw new ApiError('stream', 0, 'no final event');
  return final;
}

function onProgress(run, event) {
  if (state.run !== run || typeof event.id !== 'string') return;
  if (typeof event.total === 'number') run.serverTotal = event.total;
  if (!run.order.includes(event.id)) {
    run.order.push(event.id);
    if (event.title) run.titles.set(event.id, event.title);
    renderResults();
  }
  if (event.kind === 'started') {
    run.started.add(event.id);
    renderRow(event.id);
  } else if (event.kind === 'finished' && event.result) {
    run.results.set(event.id, event.result);
    if (typeof event.done === 'number') run.serverDone = event.done;
    else run.serverDone += 1;
    renderRow(event.id);
  }
  renderProgress();
  updateButtons();
}

function applyFinal(run, final) {
  run.saved = !!final.saved;
  const results = final.run && Array.isArray(final.run.results) ? final.run.results : [];
  for (const r of results) {
    if (!r || typeof r.id !== 'string') continue;
    if (!run.order.includes(r.id)) run.order.push(r.id);
    run.results.set(r.id, r);
  }
  run.serverTotal = final.run ? results.length : (run.serverTotal ?? run.order.length);
  run.serverDone = run.serverTotal;
}

function countStatuses(results) {
  const counts = { ok: 0, warn: 0, fail: 0, skipped: 0 };
  for (const r of results) if (r && counts[r.status] !== undefined) counts[r.status] += 1;
  return counts;
}

function countsText(counts) {
  return STATUSES.filter((s) => counts[s] > 0)
    .map((s) => t(`results.count.${s}`, { n: counts[s] }))
    .join(state.lang === 'en' ? ', ' : '，');
}

function announceRun(run) {
  const counts = countStatuses([...run.results.values()]);
  $('announce').textContent = t('results.announce', { counts: countsText(counts) });
}

function renderProgress() {
  const run = state.run;
  const box = $('progress');
  if (!run) {
    box.hidden = true;
    return;
  }
  const { done, total } = runTotals(run);
  box.hidden = false;
  box.classList.toggle('finished', !run.running);
  const bar = $('progress-bar');
  bar.max = total;
  bar.value = done;
  setText($('progress-label'), 'results.progress', { done, total });
}

function renderResults() {
  const run = state.run;
  const list = $('results-list');
  $('results-empty').hidden = !!run;
  $('results').setAttribute('aria-busy', String(!!run?.running));
  const kind = $('results-kind');
  if (run) setText(kind, run.save ? 'results.savedRun' : 'results.unsavedRun');
  else {
    delete kind.dataset.i18n;
    kind.textContent = '';
  }
  const note = $('results-note');
  note.hidden = !run || t('results.englishNote') === '';
  setText(note, 'results.englishNote');
  renderProgress();
  const summary = $('results-summary');
  if (run && !run.running) {
    const results = [...run.results.values()];
    const counts = countStatuses(results);
    summary.hidden = false;
    summary.replaceChildren(
      ...STATUSES.filter((s) => counts[s] > 0).map((s) => h('span', { class: `count count-${s}`, i18n: `results.count.${s}`, args: { n: counts[s] } })),
      h('span', { class: 'muted', i18n: 'results.finished', args: { time: formatMs(run.ms) } }),
    );
  } else summary.hidden = true;
  if (!run) {
    list.replaceChildren();
    return;
  }
  list.replaceChildren(...runOrder(run).map((id) => resultRow(id, run.results.get(id), rowState(run, id), run.titles.get(id), 'run')));
}

function rowState(run, id) {
  if (run.results.has(id)) return 'done';
  if (id === BROWSER_CHECK_ID) return run.running ? 'running' : 'pending';
  return run.started.has(id) && run.running ? 'running' : 'pending';
}

function renderRow(id) {
  const run = state.run;
  const old = document.querySelector(`#results-list > [data-id="${CSS.escape(id)}"]`);
  const row = resultRow(id, run.results.get(id), rowState(run, id), run.titles.get(id), 'run');
  if (old) old.replaceWith(row);
  else renderResults();
}

/**
 * One check as a list item: status, title, time, then the server's summary, the fix (always shown) and the
 * details (folded).
 * @param {string} scope 'run' or 'bg' (keeps <details> state apart)
 */
function resultRow(id, result, rowStateValue, serverTitle, scope) {
  const status = rowStateValue === 'done' ? (result?.status ?? 'skipped') : rowStateValue;
  const li = h('li', { class: `check check-${status}`, attrs: { 'data-id': id, 'data-status': status } });
  const headId = `${scope}-title-${id}`;
  const head = h('div', { class: 'check-head' }, [badge(status), h('h3', { class: 'check-title', text: checkTitle(id, serverTitle), attrs: { id: headId } })]);
  if (id === BROWSER_CHECK_ID) head.append(h('span', { class: 'tag tag-browser', i18n: 'results.byBrowser' }));
  if (result && typeof result.ms === 'number') head.append(h('span', { class: 'check-ms muted', text: formatMs(result.ms) }));
  li.setAttribute('aria-labelledby', headId);
  li.append(head);
  if (!result) {
    // a running row says so in its badge; a waiting one says what it waits for
    if (status !== 'running') li.append(h('p', { class: 'check-summary muted', i18n: 'results.waiting' }));
    return li;
  }
  // The browser check's texts are the page's own (translated); the server's come with message keys where the
  // page has a text for them, else stay in English.
  const serverText = !result.localized;
  const english = serverText ? { lang: 'en' } : {};
  const summary = serverMessage(result, 'summary');
  const fixText = serverMessage(result, 'fix');
  const detailText = serverMessage(result, 'detail');
  li.append(h('p', { class: 'check-summary', text: summary.text, attrs: summary.translated ? {} : english }));
  if (fixText.text) {
    const fix = h('div', { class: 'check-fix', attrs: fixText.translated ? {} : english }, [h('h4', { i18n: 'results.fix' }), richText(fixText.text)]);
    li.append(fix);
  }
  const hasData = result.data && typeof result.data === 'object' && Object.keys(result.data).length > 0;
  if (detailText.text || hasData) {
    const key = `${scope}:${id}`;
    const details = h('details', { class: 'check-detail', attrs: { open: state.open.has(key) } }, [h('summary', { i18n: 'results.detail' })]);
    if (detailText.text) details.append(h('div', { attrs: detailText.translated ? {} : english }, [richText(detailText.text)]));
    if (hasData) {
      const code = h('code', { text: JSON.stringify(result.data, null, 2) });
      details.append(h('h4', { i18n: 'results.data' }), h('div', { class: 'code-block' }, [h('pre', {}, [code]), copyButton(() => code.textContent, code)]));
    }
    details.addEventListener('toggle', () => {
      if (details.open) state.open.add(key);
      else state.open.delete(key);
    });
    li.append(details);
  }
  return li;
}

/**
 * One text of a server result in the page's language: from its message key (`messages.<part>`, `msg.<key>` here)
 * when the page has a text for that key, else the server's English text. Parameters are shown as they are (URLs,
 * setting names, snippets), except values that have their own words (`msg.<param>.<value>`).
 * @param {object} result a check result
 * @param {'summary' | 'detail' | 'fix'} part
 * @returns {{ text: string, translated: boolean }}
 */
export function serverMessage(result, part) {
  const english = typeof result[part] === 'string' ? result[part] : '';
  const message = result.messages && typeof result.messages === 'object' ? result.messages[part] : undefined;
  if (result.localized || !message || typeof message.key !== 'string' || !MESSAGES.en[`msg.${message.key}`]) return { text: english, translated: !!result.localized };
  const params = {};
  for (const [name, value] of Object.entries(message.params ?? {})) {
    params[name] = MESSAGES.en[`msg.${name}.${value}`] ? { $t: `msg.${name}.${value}` } : value;
  }
  return { text: t(`msg.${message.key}`, params), translated: true };
}

// ---------------------------------------------------------------------------------------------------------------
// Browser → DocumentServer: this page loads api.js from DocumentServer's public address

/** The browser check's result; its texts are kept as message keys, so a language switch redoes them. */
function localizedResult(status, summaryKey, args, fixKey, started) {
  const result = { id: BROWSER_CHECK_ID, status, localized: true, ms: Math.round(performance.now() - started) };
  Object.defineProperty(result, 'summary', { enumerable: true, get: () => t(summaryKey, args) });
  if (fixKey) Object.defineProperty(result, 'fix', { enumerable: true, get: () => t(fixKey, args) });
  if (args && args.url) Object.defineProperty(result, 'detail', { enumerable: true, get: () => t('browser.detail', args) });
  return result;
}

/** major.minor >= 6.1 (the ONLYOFFICE connectors' rule for the editors). */
function versionSupported(version) {
  const m = /^(\d+)\.(\d+)/.exec(String(version));
  if (!m) return true;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 6 || (major === 6 && minor >= 1);
}

/**
 * Loads `{publicUrl}/web-apps/apps/api/documents/api.js` with a <script> element and reports loaded (and
 * DocsAPI defined), failed (onerror; or blocked by this page's CSP, which allows only the saved DS origin),
 * or no answer within 10 s.
 * @param {string} publicUrl
 * @param {number} [timeoutMs]
 */
export function browserDocsApiCheck(publicUrl, timeoutMs = BROWSER_CHECK_TIMEOUT_MS) {
  const started = performance.now();
  const s = Math.round(timeoutMs / 1000);
  if (!publicUrl) return Promise.resolve(localizedResult('skipped', 'browser.noUrl', null, 'browser.noUrlFix', started));
  let base;
  try {
    base = new URL(publicUrl);
  } catch {
    base = null;
  }
  if (!base || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
    return Promise.resolve(localizedResult('fail', 'browser.badUrl', { url: publicUrl }, 'browser.badUrlFix', started));
  }
  const url = publicUrl.replace(/\/+$/, '') + API_JS_PATH;
  const args = { url, s };
  if (location.protocol === 'https:' && base.protocol === 'http:') {
    return Promise.resolve(localizedResult('fail', 'browser.mixed', args, 'browser.mixedFix', started));
  }
  return new Promise((resolve) => {
    let settled = false;
    let blockedByCsp = false;
    const script = document.createElement('script');
    const onViolation = (e) => {
      const blocked = String(e.blockedURI || '');
      if (String(e.effectiveDirective || e.violatedDirective || '').startsWith('script-src') && blocked && (url.startsWith(blocked) || blocked.startsWith(base.origin))) {
        blockedByCsp = true;
        finish(localizedResult('skipped', 'browser.csp', args, 'browser.cspFix', started));
      }
    };
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      document.removeEventListener('securitypolicyviolation', onViolation);
      script.remove();
      try {
        delete window.DocsAPI;
      } catch {
        window.DocsAPI = undefined;
      }
      resolve(result);
    };
    const timer = setTimeout(() => finish(localizedResult('fail', 'browser.timeout', args, 'browser.failFix', started)), timeoutMs);
    document.addEventListener('securitypolicyviolation', onViolation);
    script.addEventListener('load', () => {
      const api = window.DocsAPI;
      if (!api || typeof api.DocEditor !== 'function') {
        finish(localizedResult('fail', 'browser.notDocs', args, 'browser.notDocsFix', started));
        return;
      }
      let version = null;
      try {
        version = typeof api.DocEditor.version === 'function' ? api.DocEditor.version() : null;
      } catch {
        version = null;
      }
      const full = { ...args, version: version ?? '' };
      if (version && !versionSupported(version)) finish(localizedResult('fail', 'browser.old', full, 'browser.oldFix', started));
      else finish(localizedResult('ok', version ? 'browser.ok' : 'browser.okNoVersion', full, null, started));
    });
    script.addEventListener('error', () => {
      // A CSP block fires both events; give the violation event a moment to say so.
      setTimeout(() => {
        if (!blockedByCsp) finish(localizedResult('fail', 'browser.error', args, 'browser.failFix', started));
      }, 100);
    });
    delete window.DocsAPI;
    script.src = `${url}?_=${Date.now()}`;
    script.async = true;
    document.head.append(script);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Background runs

let backgroundTimer = null;

async function loadBackground() {
  if (!state.signedIn) return;
  try {
    state.background = await apiJson('checks/last');
    state.backgroundError = false;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    state.backgroundError = e.kind !== 'auth';
  }
  renderBackground();
  clearTimeout(backgroundTimer);
  backgroundTimer = setTimeout(() => {
    if (document.visibilityState === 'visible') loadBackground();
  }, 60_000);
}

function renderBackground() {
  const root = $('bg-body');
  root.replaceChildren();
  if (!state.signedIn) return;
  if (state.backgroundError) {
    root.append(h('p', { class: 'form-error', i18n: 'bg.error' }));
    return;
  }
  const bg = state.background;
  if (!bg) return;
  const minutes = Number(bg.intervalMinutes);
  if (bg.intervalMinutes === undefined || !Number.isFinite(minutes)) setText($('bg-intro'), 'bg.intro');
  else if (minutes <= 0) setText($('bg-intro'), 'bg.off');
  else setText($('bg-intro'), 'bg.every', { n: new Intl.NumberFormat(state.lang, { maximumFractionDigits: 1 }).format(minutes) });
  const last = bg.last;
  if (!last || !last.run) root.append(h('p', { class: 'muted', i18n: 'bg.none' }));
  else {
    const results = Array.isArray(last.run.results) ? last.run.results : [];
    const line = h('div', { class: 'bg-last' }, [
      h('span', { class: 'bg-label', i18n: 'bg.last' }),
      badge(last.run.status),
      h('time', { attrs: { datetime: isoTime(last.at) }, text: t('bg.lastAt', { when: formatTime(last.at), ago: formatAgo(last.at) }) }),
    ]);
    root.append(line);
    const counts = countStatuses(results);
    const key = 'bg:last';
    const details = h('details', { class: 'bg-results', attrs: { open: state.open.has(key) } }, [
      h('summary', {}, [h('span', { i18n: 'bg.showResults' }), h('span', { class: 'muted', text: ` — ${countsText(counts)}` })]),
      h('ol', { class: 'check-list' }, results.map((r) => resultRow(r.id, r, 'done', null, 'bg'))),
    ]);
    details.addEventListener('toggle', () => (details.open ? state.open.add(key) : state.open.delete(key)));
    root.append(details);
  }
  root.append(h('h3', { class: 'bg-history-title', i18n: 'bg.history' }));
  const history = Array.isArray(bg.history) ? [...bg.history] : [];
  history.sort((a, b) => new Date(b.at).getTime() - new Date(a.at).getTime());
  if (history.length === 0) {
    root.append(h('p', { class: 'muted', i18n: 'bg.historyEmpty' }));
    return;
  }
  const table = h('table', { class: 'history' }, [
    h('thead', {}, [h('tr', {}, [h('th', { i18n: 'bg.col.time', attrs: { scope: 'col' } }), h('th', { i18n: 'bg.col.status', attrs: { scope: 'col' } }), h('th', { i18n: 'bg.col.changes', attrs: { scope: 'col' } })])]),
    h(
      'tbody',
      {},
      history.map((entry) => {
        const changes = Array.isArray(entry.changed) ? entry.changed : [];
        const cell = h('td', { class: 'changes' });
        if (changes.length === 0) cell.append(h('span', { class: 'muted', i18n: 'bg.noChange' }));
        else {
          cell.append(
            h(
              'ul',
              {},
              changes.map((c) =>
                h('li', {}, [
                  h('span', { class: 'change-title', text: `${checkTitle(c.id)}: ` }),
                  c.from ? badge(c.from) : h('span', { class: 'muted', i18n: 'bg.firstRun' }),
                  h('span', { class: 'arrow', text: ' → ', attrs: { 'aria-hidden': 'false' } }),
                  badge(c.to),
                ]),
              ),
            ),
          );
        }
        return h('tr', {}, [h('td', { class: 'when' }, [h('time', { text: formatTime(entry.at), attrs: { datetime: isoTime(entry.at) } })]), h('td', {}, [badge(entry.status)]), cell]);
      }),
    ),
  ]);
  root.append(h('div', { class: 'table-wrap' }, [table]));
}

// ---------------------------------------------------------------------------------------------------------------
// Start

function initLanguageSwitch() {
  const select = $('lang');
  for (const l of LANGUAGES) select.append(h('option', { text: l.name, attrs: { value: l.code, lang: l.code } }));
  setAttr(select, 'aria-label', 'lang.label');
  setAttr($('progress-bar'), 'aria-label', 'results.progressLabel');
  select.addEventListener('change', () => setLanguage(select.value, true));
}

async function init() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null;
  }
  initLanguageSwitch();
  setLanguage(pickLanguage(navigator.languages ?? [navigator.language], stored), false);

  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  $('bg-refresh').addEventListener('click', () => loadBackground());
  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const submitter = event.submitter;
    startRun(submitter ? submitter.dataset.action === 'save' : false);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.signedIn && !state.run?.running) loadBackground();
  });

  try {
    const res = await api('session');
    const body = res.ok ? await res.json() : { authenticated: false };
    if (body.authenticated) await enterApp(body.csrfToken);
    else showSignIn();
  } catch (e) {
    showSignIn();
    if (e instanceof ApiError) setText($('signin-error'), 'error.network', { msg: e.message });
  }
  document.body.dataset.ready = 'true';
}

init();
