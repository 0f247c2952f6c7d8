/**
 * The admin page's view of a check result's texts: each message key rendered in English or Chinese exactly as the
 * page renders it (admin-ui/i18n.js, parameters with words of their own — `msg.<param>.<value>` — translated), and
 * an assertion that a result can be shown in Chinese at all.
 */
import type { CheckResult } from '../../../connector/src/checks/CheckResult.js';
import type { CheckMessage } from '../../../connector/src/checks/checkMessages.js';
// @ts-expect-error admin-ui/ is the page's plain JavaScript, without type declarations
import { MESSAGES, format } from '../../../admin-ui/i18n.js';

type Lang = 'en' | 'zh-CN';
const table = (lang: Lang): Record<string, string> => (MESSAGES as Record<Lang, Record<string, string>>)[lang];

/**
 * A message as the page shows it in `lang`; `undefined` when the page has no text for its key.
 * @param m - the message
 * @param lang - the page's language
 */
export function render(m: CheckMessage | undefined, lang: Lang): string | undefined {
  if (!m) return undefined;
  const template = table(lang)[`msg.${m.key}`];
  if (template === undefined) return undefined;
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(m.params ?? {})) params[name] = table(lang)[`msg.${name}.${value}`] ?? value;
  return format(template, params) as string;
}

/**
 * Every part a result has in English (summary, fix) also has a message the page can show in Chinese, with every
 * `{slot}` filled.
 * @param results - one result or several
 */
export function expectTranslated(results: CheckResult | CheckResult[]): void {
  for (const r of Array.isArray(results) ? results : [results]) {
    for (const part of ['summary', 'fix', 'detail'] as const) {
      if (part === 'detail' && !r.messages?.detail) continue; // evidence may stay English
      if (r[part] === undefined) continue;
      const zh = render(r.messages?.[part], 'zh-CN');
      expect({ id: r.id, part, english: r[part], zh: typeof zh }).toEqual({ id: r.id, part, english: r[part], zh: 'string' });
      expect({ id: r.id, part, unfilled: /\{\w+\}/.test(zh ?? '') }).toEqual({ id: r.id, part, unfilled: false });
    }
  }
}
