/**
 * The pages' static files, kept in the module (no build step copies files next to dist/): one stylesheet and two
 * small scripts, served at `/web/assets/<name>` with a content hash as ETag. CSP-compatible: no inline handlers.
 */
import { createHash } from 'node:crypto';

const CSS = `/* wopi-bridge pages: one column, readable on a phone; light and dark. */
:root{--bg:#f5f6f8;--card:#fff;--text:#1c2230;--muted:#5a6374;--border:#d9dde4;--accent:#2459c4;--accent-text:#fff;--danger:#b3261e;--ok-bg:#e5f3ea;--fail-bg:#fde9e7;--radius:8px;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1c2027;--text:#e6e9ee;--muted:#a0a8b6;--border:#323844;--accent:#6d9cf5;--accent-text:#0e1420;--danger:#ff8a80;--ok-bg:#183325;--fail-bg:#3d1c1a}}
*,*::before,*::after{box-sizing:border-box}
html,body{margin:0;background:var(--bg);color:var(--text);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--accent)}
.top{display:flex;align-items:center;gap:12px;padding:10px 16px;background:var(--card);border-bottom:1px solid var(--border)}
.top .brand{font-weight:600;text-decoration:none;color:var(--text);margin-right:auto}
.top .who{color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:40vw}
main{max-width:960px;margin:0 auto;padding:16px}
.card{background:var(--card);border:1px solid var(--border);border-radius:var(--radius);padding:16px;margin-bottom:16px}
h1{font-size:1.35rem;margin:0 0 12px}
h2{font-size:1.05rem;margin:0 0 8px}
.crumbs{display:flex;flex-wrap:wrap;gap:4px;list-style:none;padding:0;margin:0 0 12px;color:var(--muted)}
.crumbs li+li::before{content:"/";margin-right:4px}
.crumbs a{text-decoration:none}
table.files{width:100%;border-collapse:collapse}
table.files th,table.files td{text-align:left;padding:8px 6px;border-bottom:1px solid var(--border);vertical-align:top}
table.files th{color:var(--muted);font-weight:500;font-size:.85rem}
td.size,td.date,th.size,th.date{white-space:nowrap;color:var(--muted)}
td.name{word-break:break-word}
td.name .icon{display:inline-block;width:14px;height:16px;margin-right:8px;vertical-align:-2px;border:1.5px solid var(--muted);border-radius:2px}
td.name .icon.folder{width:17px;height:13px;border-radius:1px 3px 3px 3px;background:var(--muted);border-color:var(--muted);position:relative}
td.name .icon.folder::before{content:"";position:absolute;top:-4px;left:-1.5px;width:7px;height:3px;background:var(--muted);border-radius:2px 2px 0 0}
td.name .icon.doc{border-color:var(--accent);border-top-right-radius:5px}
td.name .icon.ext-xlsx,td.name .icon.ext-xls,td.name .icon.ext-ods,td.name .icon.ext-csv{border-color:#1e7d45}
td.name .icon.ext-pptx,td.name .icon.ext-ppt,td.name .icon.ext-odp{border-color:#c2491d}
td.name .icon.ext-pdf{border-color:#b3261e}
td.actions{white-space:nowrap;text-align:right}
details.rename{display:inline-block}
details.rename summary{cursor:pointer;color:var(--accent);list-style:none;display:inline}
details.rename form{margin-top:6px;display:flex;gap:6px}
form.inline{display:inline}
input[type=text],input[type=password],select{font:inherit;padding:7px 9px;border:1px solid var(--border);border-radius:6px;background:var(--card);color:var(--text);min-width:0}
button,.button{font:inherit;padding:7px 14px;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-text);cursor:pointer;text-decoration:none;display:inline-block}
button.link{background:none;border:none;color:var(--accent);padding:0;text-decoration:underline}
button.danger{background:none;color:var(--danger);border-color:var(--danger);padding:3px 8px}
.new{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.new input[type=text]{flex:1 1 180px}
.field{display:flex;flex-direction:column;gap:4px;margin-bottom:12px}
.msg{padding:10px 12px;border-radius:6px;margin-bottom:12px}
.msg.error{background:var(--fail-bg)}
.msg.info{background:var(--ok-bg)}
.muted{color:var(--muted)}
.empty{color:var(--muted);padding:12px 0}
form.signin{max-width:380px}
body.host{overflow:hidden}
body.host iframe{position:fixed;inset:0;width:100%;height:100%;border:0}
body.host form{display:none}
@media (max-width:640px){
 main{padding:8px}
 .card{padding:10px}
 th.date,td.date{display:none}
 td.actions{white-space:normal}
 details.rename form{flex-direction:column}
}
`;

const LIST_JS = `// File list: asks before deleting (the server deletes only on a POST carrying the CSRF token).
document.addEventListener('submit', function (ev) {
  var form = ev.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
});
`;

const NEXTCLOUD_JS = `// Nextcloud Login Flow v2: polls the bridge (same origin; the flow id is in an HttpOnly cookie) until signed in.
(function () {
  var box = document.getElementById('nc-flow');
  if (!box) return;
  var pollUrl = box.dataset.poll;
  var next = box.dataset.next || '/';
  var status = document.getElementById('nc-status');
  var stopped = false;
  function show(text, isError) {
    status.textContent = text;
    status.className = 'msg ' + (isError ? 'error' : 'info');
  }
  function poll() {
    if (stopped) return;
    fetch(pollUrl, { method: 'POST', credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
      .then(function (res) {
        if (res.body.status === 'done') { stopped = true; show('Signed in. Opening your files…', false); window.location.assign(next); return; }
        if (res.body.status === 'pending') { setTimeout(poll, 2000); return; }
        stopped = true;
        show(res.body.message || 'Sign-in failed.', true);
      })
      .catch(function () { setTimeout(poll, 4000); });
  }
  poll();
})();
`;

/** One served file. */
export interface WebAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

function asset(text: string, contentType: string): WebAsset {
  const body = Buffer.from(text, 'utf8');
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const ASSETS: ReadonlyMap<string, WebAsset> = new Map([
  ['web.css', asset(CSS, 'text/css; charset=utf-8')],
  ['list.js', asset(LIST_JS, 'text/javascript; charset=utf-8')],
  ['nextcloud.js', asset(NEXTCLOUD_JS, 'text/javascript; charset=utf-8')],
]);

/**
 * A static file of the pages by name.
 * @returns the file, or null for any other name
 */
export function webAsset(name: string): WebAsset | null {
  return ASSETS.get(name) ?? null;
}
