/**
 * Which DocumentServer action opens a file (reference §1.1–1.2): the discovery's actions for the file's extension,
 * the user's permission on the drive and EDITABLE_FORMATS decide between view, edit, editnew and embedview. Pure.
 */
import type { Discovery } from '../discovery/parseDiscovery.js';
import { splitExtension } from '../storage/StorageAdapter.js';

/** Actions a person can ask for in `/open/<id>?action=`. */
export const REQUESTABLE_ACTIONS = ['view', 'edit', 'editnew', 'embedview'] as const;
export type RequestedAction = (typeof REQUESTABLE_ACTIONS)[number];

/** Why a file that could be edited opens read-only. */
export type ReadOnlyReason = 'no_permission' | 'format_not_editable' | 'ds_cannot_edit' | 'asked_for_view';

/** The outcome: the action and its discovery `urlsrc`, or why DS cannot open the file. */
export type ActionChoice =
  | { kind: 'open'; action: RequestedAction; urlsrc: string; app: string; ext: string; writable: boolean; readOnlyReason: ReadOnlyReason | null }
  | { kind: 'unsupported'; ext: string };

/**
 * Parses the `action` query value.
 * @returns the action, or undefined for an absent or unknown value (the default applies)
 */
export function parseRequestedAction(value: unknown): RequestedAction | undefined {
  return typeof value === 'string' && (REQUESTABLE_ACTIONS as readonly string[]).includes(value) ? (value as RequestedAction) : undefined;
}

/** Lower-case extension of a file name without the dot; '' when it has none. */
export function extensionOf(name: string): string {
  return splitExtension(name)[1].slice(1).toLowerCase();
}

/**
 * Chooses how to open a file.
 * @param discovery DS's parsed discovery
 * @param fileName the file's name (its extension is looked up)
 * @param canWrite whether the user may write the file on the drive (FileInfo.permissions.canWrite)
 * @param editableFormats EDITABLE_FORMATS (empty = every format DS can edit)
 * @param requested what the link asked for; default edit when allowed
 * @returns edit (or editnew) only when the user may write, the format is editable and discovery offers edit; view otherwise
 */
export function chooseAction(
  discovery: Discovery,
  fileName: string,
  canWrite: boolean,
  editableFormats: readonly string[],
  requested?: RequestedAction,
): ActionChoice {
  const ext = extensionOf(fileName);
  const entry = ext === '' ? undefined : discovery.byExtension.get(ext);
  const viewUrl = entry?.view ?? entry?.embedview;
  if (!entry || (viewUrl === undefined && entry.edit === undefined)) return { kind: 'unsupported', ext };
  const formatEditable = editableFormats.length === 0 || editableFormats.includes(ext);
  let readOnlyReason: ReadOnlyReason | null = null;
  if (entry.edit === undefined) readOnlyReason = 'ds_cannot_edit';
  else if (!formatEditable) readOnlyReason = 'format_not_editable';
  else if (!canWrite) readOnlyReason = 'no_permission';
  const base = { app: entry.app, ext };
  if (requested === 'embedview' && entry.embedview !== undefined) {
    return { kind: 'open', action: 'embedview', urlsrc: entry.embedview, writable: false, readOnlyReason: readOnlyReason ?? 'asked_for_view', ...base };
  }
  if (requested === 'view' && viewUrl !== undefined) {
    return { kind: 'open', action: 'view', urlsrc: viewUrl, writable: false, readOnlyReason: readOnlyReason ?? 'asked_for_view', ...base };
  }
  if (readOnlyReason === null && entry.edit !== undefined) {
    if (requested === 'editnew') return { kind: 'open', action: 'editnew', urlsrc: entry.editnew ?? entry.edit, writable: true, readOnlyReason: null, ...base };
    return { kind: 'open', action: 'edit', urlsrc: entry.edit, writable: true, readOnlyReason: null, ...base };
  }
  if (viewUrl === undefined) return { kind: 'unsupported', ext };
  return { kind: 'open', action: 'view', urlsrc: viewUrl, writable: false, readOnlyReason, ...base };
}
