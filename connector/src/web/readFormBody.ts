/**
 * Reads the small `application/x-www-form-urlencoded` bodies of the pages' forms. WOPI bodies are streams and are
 * never parsed (STYLE §5); this is only mounted on the page routes.
 */
import type { Context } from 'koa';
import { readSmallBody } from '../http/readSmallBody.js';

/** Largest form body (16 KiB: a file name, a token and a path fit many times over). */
export const FORM_BODY_LIMIT = 16 * 1024;

/** A body the pages cannot use: too large (413) or not a form (415). */
export class FormBodyError extends Error {
  constructor(readonly status: 413 | 415, message: string) {
    super(message);
    this.name = 'FormBodyError';
  }
}

/**
 * Parses a form body; later duplicates of a field are ignored.
 * @returns field name → value (empty when the request has no body)
 * @throws FormBodyError
 */
export async function readFormBody(ctx: Context, limit: number = FORM_BODY_LIMIT): Promise<Record<string, string>> {
  const declared = ctx.get('Content-Length');
  if ((declared === '' || declared === '0') && ctx.get('Transfer-Encoding') === '') return {};
  if (!ctx.is('application/x-www-form-urlencoded')) throw new FormBodyError(415, 'Send the form as application/x-www-form-urlencoded');
  const body = await readSmallBody(ctx, limit, () => new FormBodyError(413, 'Form too large'));
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams((body ?? Buffer.alloc(0)).toString('utf8'))) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}
