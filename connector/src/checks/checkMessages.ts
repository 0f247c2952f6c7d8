/**
 * Message keys of check results, so the admin page can show every summary, detail and fix in the reader's language
 * (admin-ui/i18n.js holds an English and a Simplified Chinese text for each key). The English text fields of a
 * result stay as they are for the CLI and the API; a key comes with the parameters its text needs — URLs, setting
 * names, codes and `local.json` snippets, which are never translated.
 */

/** Parameter values of a message (shown as they are). */
export type MessageParams = Record<string, string | number>;

/** One translatable text: `key` names it in admin-ui/i18n.js (`msg.<key>`), `params` fill its `{name}` slots. */
export interface CheckMessage {
  key: string;
  params?: MessageParams;
}

/** The translatable texts of one result. */
export interface CheckMessages {
  summary: CheckMessage;
  detail?: CheckMessage;
  fix?: CheckMessage;
}

/**
 * A message.
 * @param key - the key (without the `check.` prefix)
 * @param params - values for its slots
 */
export function msg(key: string, params?: MessageParams): CheckMessage {
  return params && Object.keys(params).length > 0 ? { key, params } : { key };
}

/**
 * Whether a value is a well-formed {@link CheckMessages} (runChecks keeps only those).
 * @param v - anything a check returned
 */
export function isCheckMessages(v: unknown): v is CheckMessages {
  const isMessage = (m: unknown): boolean => {
    if (typeof m !== 'object' || m === null) return false;
    const o = m as Record<string, unknown>;
    if (typeof o.key !== 'string' || !/^[a-z0-9_.]{1,80}$/.test(o.key)) return false;
    if (o.params === undefined) return true;
    if (typeof o.params !== 'object' || o.params === null || Array.isArray(o.params)) return false;
    return Object.values(o.params).every((x) => typeof x === 'string' || typeof x === 'number');
  };
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return isMessage(o.summary) && (o.detail === undefined || isMessage(o.detail)) && (o.fix === undefined || isMessage(o.fix));
}
