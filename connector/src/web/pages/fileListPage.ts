import { html, renderPage, type Html } from '../html.js';

/** One row of the list. */
export interface ListEntry {
  name: string;
  path: string;
  isDirectory: boolean;
  size: number;
  lastModified: Date;
  /** File id (files only). */
  id: string | null;
  /** Whether DS can open it (a link to the host page). */
  openable: boolean;
  canRename: boolean;
  canDelete: boolean;
}

/** Types a new document can have. */
export const NEW_DOCUMENT_TYPES = [
  { ext: 'docx', label: 'Document (.docx)' },
  { ext: 'xlsx', label: 'Spreadsheet (.xlsx)' },
  { ext: 'pptx', label: 'Presentation (.pptx)' },
] as const;

/** Sizes as people read them: 0 B, 12 KB, 3.4 MB. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A date as `2026-11-22 10:26 UTC` (the same for every viewer; the exact time is in the datetime attribute). */
export function formatDate(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Link to a folder of the list. */
export function folderHref(base: string, folder: string): string {
  return folder === '/' ? `${base}/` : `${base}/?path=${encodeURIComponent(folder)}`;
}

function crumbs(base: string, folder: string): Html {
  const parts = folder.split('/').filter((s) => s !== '');
  const items: Html[] = [html`<li><a href="${folderHref(base, '/')}">Home</a></li>`];
  parts.forEach((name, i) => {
    const p = `/${parts.slice(0, i + 1).join('/')}`;
    items.push(i === parts.length - 1 ? html`<li aria-current="page">${name}</li>` : html`<li><a href="${folderHref(base, p)}">${name}</a></li>`);
  });
  return html`<nav aria-label="Folders"><ol class="crumbs">${items}</ol></nav>`;
}

/** Extension class of an icon (a-z0-9 only, so it is a safe class name). */
function extOf(name: string): string {
  const i = name.lastIndexOf('.');
  return i <= 0 ? 'none' : name.slice(i + 1).toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8) || 'none';
}

function row(base: string, folder: string, e: ListEntry, csrf: string): Html {
  const hidden = html`<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="path" value="${folder}">`;
  let name: Html;
  if (e.isDirectory) name = html`<span class="icon folder" aria-hidden="true"></span><a href="${folderHref(base, e.path)}">${e.name}</a>`;
  else if (e.openable && e.id !== null) name = html`<span class="icon doc ext-${extOf(e.name)}" aria-hidden="true"></span><a href="${base}/open/${encodeURIComponent(e.id)}" class="open">${e.name}</a>`;
  else name = html`<span class="icon file" aria-hidden="true"></span><span>${e.name}</span>`;
  const actions: Html[] = [];
  if (!e.isDirectory && e.id !== null) {
    if (e.canRename) {
      actions.push(html`<details class="rename"><summary>Rename</summary><form method="post" action="${base}/files/rename">${hidden}<input type="hidden" name="id" value="${e.id}"><input type="text" name="name" value="${e.name}" aria-label="New name for ${e.name}" maxlength="200" required><button type="submit">Save</button></form></details> `);
    }
    if (e.canDelete) {
      actions.push(html`<form method="post" action="${base}/files/delete" class="inline" data-confirm="Delete ${e.name}?">${hidden}<input type="hidden" name="id" value="${e.id}"><button type="submit" class="danger" aria-label="Delete ${e.name}">Delete</button></form>`);
    }
  }
  return html`<tr data-name="${e.name}"><td class="name">${name}</td><td class="size">${e.isDirectory ? '' : formatSize(e.size)}</td><td class="date"><time datetime="${Number.isNaN(e.lastModified.getTime()) ? '' : e.lastModified.toISOString()}">${formatDate(e.lastModified)}</time></td><td class="actions">${actions}</td></tr>`;
}

/**
 * The file list of one folder: breadcrumbs, folders first, then files, each file linked to the host page when DS
 * can open it; forms to create a document here, rename and delete. Every form carries the session's CSRF token.
 * @returns the HTML document
 */
export function renderFileListPage(o: {
  base: string;
  folder: string;
  entries: ListEntry[];
  user: { name: string; csrfToken: string };
  /** A short note after an action (`Deleted a.docx`). */
  notice?: string | null;
}): string {
  const sorted = [...o.entries].sort((a, b) => (a.isDirectory === b.isDirectory ? a.name.localeCompare(b.name, undefined, { sensitivity: 'base', numeric: true }) : a.isDirectory ? -1 : 1));
  const csrf = o.user.csrfToken;
  const rows = sorted.map((e) => row(o.base, o.folder, e, csrf));
  const table = rows.length
    ? html`<table class="files"><thead><tr><th>Name</th><th class="size">Size</th><th class="date">Modified</th><th class="actions"><span class="muted">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p class="empty">This folder is empty.</p>`;
  const options = NEW_DOCUMENT_TYPES.map((t) => html`<option value="${t.ext}">${t.label}</option>`);
  const create = html`<section class="card"><h2>New</h2><form method="post" action="${o.base}/files/new" class="new"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="path" value="${o.folder}"><select name="type" aria-label="Type">${options}</select><input type="text" name="name" placeholder="Name (optional)" aria-label="Name" maxlength="200"><button type="submit">Create</button></form></section>`;
  const title = o.folder === '/' ? 'Home' : (o.folder.split('/').pop() ?? o.folder);
  const body = html`<main>${o.notice ? html`<p class="msg info" role="status">${o.notice}</p>` : null}<section class="card">${crumbs(o.base, o.folder)}<h1>${title}</h1>${table}</section>${create}</main>`;
  return renderPage({ title, base: o.base, body, user: o.user, scripts: ['list.js'] });
}
