/**
 * What every command gets from the dispatcher: its environment, its streams and the stylers. Results go to
 * stdout, diagnostics to stderr; commands never touch `process` directly, so they stay testable.
 */
import { createStyler, wantsColor, type Styler } from './output.js';

/** A readable stdin that may be a terminal. */
export type Stdin = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
/** A writable stream that may be a terminal. */
export type Stdout = NodeJS.WritableStream & { isTTY?: boolean };

export interface Cli {
  /** The environment the configuration is read from (process.env). */
  readonly env: Record<string, string | undefined>;
  readonly stdin: Stdin;
  /** Writes a result to stdout. */
  out(text: string): void;
  /** Writes a diagnostic line to stderr, prefixed `wopi-bridge: ` (a newline is added). */
  warn(line: string): void;
  /** Writes raw text to stderr (prompts). */
  errRaw(text: string): void;
  /** Styles for stdout. */
  readonly style: Styler;
  /** Styles for stderr. */
  readonly errStyle: Styler;
  /** Whether stdin is a terminal (a person can answer a question). */
  readonly interactive: boolean;
}

/**
 * The real CLI context.
 * @param noColor `--no-color` was given
 */
export function processCli(noColor: boolean): Cli {
  const env = process.env;
  const errStyle = createStyler(wantsColor(process.stderr, env, noColor));
  return {
    env,
    stdin: process.stdin,
    out: (text) => void process.stdout.write(text),
    warn: (line) => void process.stderr.write(`wopi-bridge: ${line}\n`),
    errRaw: (text) => void process.stderr.write(text),
    style: createStyler(wantsColor(process.stdout, env, noColor)),
    errStyle,
    interactive: process.stdin.isTTY === true,
  };
}
