/**
 * Reads the small `application/x-www-form-urlencoded` bodies of the pages' forms. WOPI bodies are streams and are
 * never parsed (STYLE §5); this is only mounted on the page routes.
 */
import type { Context } from 'koa';

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
  const chunked = ctx.get('Transfer-Encoding') !== '';
  if ((declared === '' || declared === '0') && !chunked) return {};
  if (!ctx.is('application/x-www-form-urlencoded')) throw new FormBodyError(415, 'Send the form as application/x-www-form-urlencoded');
  if (declared !== '' && Number(declared) > limit) throw new FormBodyError(413, 'Form too large');
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const req = ctx.req;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        reject(new FormBodyError(413, 'Form too large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve();
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}
