/**
 * Argument parsing and stdin input shared by the commands. Every mistake becomes a UsageError (one line, exit 3).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFile } from 'node:fs/promises';
import { UsageError } from './exitCodes.js';
import type { Cli } from './context.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments strictly (unknown flags and missing values are usage errors).
 * @param args the arguments after the command (and sub-command) name
 * @param options node:util parseArgs options
 * @param positionals how many positionals are allowed, and what to say when the count is wrong
 */
export function parse<O extends Options>(
  args: string[],
  options: O,
  positionals: { min: number; max: number; usage: string },
): { values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values']; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      // Node's messages are one line but may suggest `--`; keep the first sentence.
      throw new UsageError(`${(e as Error).message.split('. ')[0]?.replace(/\.$/, '')}; ${positionals.usage}`);
    }
    throw e;
  }
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(`missing argument; ${positionals.usage}`);
  if (n > positionals.max) throw new UsageError(`too many arguments; ${positionals.usage}`);
  return { values: parsed.values, positionals: parsed.positionals };
}

/** Largest input read from stdin or a file (a secret, a token, a JSON payload). */
const MAX_INPUT_BYTES = 1024 * 1024;

/**
 * Reads stdin to its end (a pipe or a redirected file).
 * @returns the text without its trailing line break(s)
 */
export async function readAllStdin(cli: Cli, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of cli.stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_INPUT_BYTES) throw new UsageError(`${what} on stdin is larger than 1 MB`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/[\r\n]+$/, '');
}

/**
 * Reads one line from a terminal without echoing it (for a secret typed by hand).
 * Ctrl-C or Ctrl-D on an empty line cancel.
 */
export function readHiddenLine(cli: Cli, prompt: string): Promise<string> {
  const stdin = cli.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    cli.errRaw(prompt);
    const done = (err: Error | null): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      cli.errRaw('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) return done(new UsageError('cancelled; nothing changed'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * Asks a yes/no question on a terminal (the question on stderr, the answer read from stdin).
 * @returns true only for y / yes
 */
export function confirm(cli: Cli, question: string): Promise<boolean> {
  const stdin = cli.stdin;
  return new Promise((resolve) => {
    let line = '';
    cli.errRaw(`${question} [y/N] `);
    const finish = (answer: boolean): void => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.pause();
      resolve(answer);
    };
    const onData = (chunk: Buffer | string): void => {
      line += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const nl = line.search(/[\r\n]/);
      if (nl >= 0) finish(/^\s*y(es)?\s*$/i.test(line.slice(0, nl)));
    };
    const onEnd = (): void => finish(false);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

/**
 * Reads a secret or other value from a file (trailing line breaks dropped).
 * @param flag the option that named it, for messages
 */
export async function readValueFile(file: string, flag: string): Promise<string> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_INPUT_BYTES) throw new UsageError(`${flag} ${file}: larger than 1 MB`);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag} ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return text.replace(/[\r\n]+$/, '');
}

/**
 * An http:// or https:// base URL without a trailing slash.
 * @throws UsageError naming the flag
 */
export function httpUrl(raw: string, flag: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    if (u.username || u.password) throw new UsageError(`${flag} must not contain credentials`);
    if (u.search || u.hash) throw new UsageError(`${flag} must not contain a query string or fragment`);
    return u.href.replace(/\/+$/, '');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag} must be an http:// or https:// URL, e.g. http://127.0.0.1:8080`);
  }
}

/** A whole number of seconds within bounds. */
export function seconds(raw: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`${flag} must be a whole number of seconds between ${min} and ${max}`);
  return Number(raw);
}
