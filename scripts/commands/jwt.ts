/**
 * `wopi-bridge jwt decode|verify|sign`: for "Invalid token" — what a token says, whether it verifies and precisely
 * why not, and a test token for DocumentServer's command service. Never prints a secret; a token given to the
 * command is shown back only as `header.payload.<signature hidden>`.
 */
import jwt from 'jsonwebtoken';
import type { Command } from '../cli/command.js';
import type { Cli } from '../cli/context.js';
import { parse, readAllStdin, readValueFile, seconds } from '../cli/args.js';
import { EXIT, UsageError, type ExitCode } from '../cli/exitCodes.js';
import { expiryPhrase, jsonText, localTime, relative } from '../cli/output.js';
import { loadCliConfig } from '../cli/runtime.js';
import { issueAccessToken, verifyAccessToken } from '../../connector/src/tokens/accessToken.js';

type Kind = 'wopi' | 'docs';

/** Algorithms each kind accepts: the bridge pins HS256; DocumentServer's jsonwebtoken accepts any HMAC. */
const ALGORITHMS: Record<Kind, jwt.Algorithm[]> = { wopi: ['HS256'], docs: ['HS256', 'HS384', 'HS512'] };
/** DocumentServer's `services.CoAuthoring.token.verifyOptions.clockTolerance` default (seconds). */
const DS_CLOCK_TOLERANCE_S = 60;

/**
 * The audience and issuer of the bridge's own access tokens, read from a token issueAccessToken makes (so this
 * command never keeps a copy of them).
 */
function bridgeAudienceAndIssuer(): { aud: unknown; iss: unknown } {
  const { token } = issueAccessToken('x'.repeat(32), { userId: 'u', fileId: 'f', canWrite: false }, 60);
  const claims = jwt.decode(token) as Record<string, unknown>;
  return { aud: claims.aud, iss: claims.iss };
}

/** A token's two readable parts. */
interface Decoded {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `header.payload.<signature hidden>`, safe to print. */
  shown: string;
}

class MalformedToken extends Error {}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodePart(part: string, what: string): Record<string, unknown> {
  if (!B64URL.test(part) || part === '') throw new MalformedToken(`its ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new MalformedToken(`its ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedToken(`its ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** @throws MalformedToken saying which part is wrong (never echoing the token) */
function decodeToken(token: string): Decoded {
  const parts = token.split('.');
  if (parts.length !== 3) throw new MalformedToken(`a JWT has 3 parts separated by dots; this has ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h, 'header');
  const payload = decodePart(p, 'payload');
  if (!B64URL.test(s)) throw new MalformedToken('its signature is not base64url');
  return { header, payload, shown: `${h}.${p}.<signature hidden>` };
}

/** The token from the argument, or stdin for `-`. */
async function tokenArg(raw: string, cli: Cli): Promise<string> {
  const token = raw === '-' ? await readAllStdin(cli, 'the token') : raw;
  // Tolerate "Bearer <token>" pasted from a header, and surrounding blanks.
  return token.trim().replace(/^Bearer\s+/i, '');
}

function kindOf(raw: string | undefined, fallback: Kind): Kind {
  const k = raw ?? fallback;
  if (k !== 'wopi' && k !== 'docs') throw new UsageError('--kind must be wopi (access tokens, WOPI_TOKEN_SECRET) or docs (DocumentServer, DOCS_JWT_SECRET)');
  return k;
}

/** The secret to use: --secret-file, --secret-stdin, or the configured one. Never printed. */
async function secretFor(kind: Kind, values: { 'secret-file'?: string; 'secret-stdin'?: boolean }, cli: Cli): Promise<{ secret: string; source: string }> {
  if (values['secret-file'] !== undefined && values['secret-stdin']) throw new UsageError('give the secret one way: --secret-file or --secret-stdin');
  if (values['secret-file'] !== undefined) {
    const secret = (await readValueFile(values['secret-file'], '--secret-file')).trim();
    if (secret === '') throw new UsageError(`--secret-file ${values['secret-file']} is empty`);
    return { secret, source: `the secret in ${values['secret-file']}` };
  }
  if (values['secret-stdin']) {
    const secret = (await readAllStdin(cli, 'the secret')).trim();
    if (secret === '') throw new UsageError('no secret on stdin');
    return { secret, source: 'the secret from stdin' };
  }
  const { config } = await loadCliConfig(cli);
  if (kind === 'wopi') return { secret: config.tokens.secret, source: 'the configured WOPI_TOKEN_SECRET' };
  if (config.docs.jwtSecret === null) {
    throw new UsageError('DOCS_JWT_SECRET is not configured: set it (wopi-bridge config set DOCS_JWT_SECRET) or pass --secret-file / --secret-stdin');
  }
  return { secret: config.docs.jwtSecret, source: 'the configured DOCS_JWT_SECRET' };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Time claims in words, relative to now. */
function timeLines(payload: Record<string, unknown>, now: number): string[] {
  const lines: string[] = [];
  const iat = num(payload.iat);
  const nbf = num(payload.nbf);
  const exp = num(payload.exp);
  if (iat !== null) lines.push(`issued:     ${localTime(iat * 1000)} (${relative(iat * 1000, now)})`);
  if (nbf !== null) lines.push(`not before: ${localTime(nbf * 1000)} (${nbf * 1000 <= now ? 'valid since' : 'valid'} ${relative(nbf * 1000, now)})`);
  lines.push(exp !== null ? `expires:    ${localTime(exp * 1000)} (${expiryPhrase(exp * 1000, now)})` : 'expires:    never (no exp claim)');
  return lines;
}

function timeJson(payload: Record<string, unknown>): Record<string, string | null> {
  const iso = (v: unknown): string | null => (num(v) === null ? null : new Date((v as number) * 1000).toISOString());
  return { issuedAt: iso(payload.iat), notBefore: iso(payload.nbf), expiresAt: iso(payload.exp) };
}

async function decode(args: string[], cli: Cli): Promise<ExitCode> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, { min: 1, max: 1, usage: 'usage: wopi-bridge jwt decode TOKEN|- [--json]' });
  const token = await tokenArg(positionals[0] as string, cli);
  let d: Decoded;
  try {
    d = decodeToken(token);
  } catch (e) {
    if (!(e instanceof MalformedToken)) throw e;
    if (values.json) cli.out(jsonText({ valid: false, reason: 'malformed', message: `malformed token: ${e.message}` }));
    else cli.out(`malformed token: ${e.message}\n`);
    return EXIT.CRITICAL;
  }
  const now = Date.now();
  if (values.json) {
    cli.out(jsonText({ header: d.header, claims: d.payload, ...timeJson(d.payload), now: new Date(now).toISOString(), token: d.shown }));
  } else {
    cli.out(
      [
        `token:      ${d.shown}`,
        `header:     ${JSON.stringify(d.header)}`,
        'claims:',
        ...JSON.stringify(d.payload, null, 2)
          .split('\n')
          .map((l) => `  ${l}`),
        ...timeLines(d.payload, now),
        `clock:      ${localTime(now)} on this machine`,
        '',
      ].join('\n'),
    );
  }
  return EXIT.OK;
}

/** Why a token does not verify, in the words of the verdict. */
interface Verdict {
  valid: boolean;
  reason?: 'malformed' | 'wrong_algorithm' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_audience' | 'wrong_issuer' | 'bad_claims' | 'too_old' | 'refused';
  message: string;
}

/**
 * Verifies a token step by step, so the first thing wrong is named: structure, algorithm, signature, expiry,
 * not-before, then (access tokens) audience, issuer and claims, and finally the bridge's own verifier.
 */
function judge(token: string, d: Decoded, kind: Kind, secret: string, source: string, now: number): Verdict {
  const alg = d.header.alg;
  const allowed = ALGORITHMS[kind];
  if (typeof alg !== 'string' || !(allowed as string[]).includes(alg)) {
    return {
      valid: false,
      reason: 'wrong_algorithm',
      message: `wrong algorithm: the header says alg ${JSON.stringify(alg ?? null)}; ${kind === 'wopi' ? 'the bridge only accepts HS256' : `DocumentServer tokens are ${allowed.join('/')}`}`,
    };
  }
  try {
    jwt.verify(token, secret, { algorithms: [alg as jwt.Algorithm], ignoreExpiration: true, ignoreNotBefore: true });
  } catch (e) {
    const msg = (e as Error).message;
    if (msg === 'invalid signature') {
      return { valid: false, reason: 'bad_signature', message: `bad signature: the token was not signed with ${source} (a different secret, or the token was altered)` };
    }
    return { valid: false, reason: 'malformed', message: `malformed token: ${msg}` };
  }
  const tolerance = kind === 'docs' ? DS_CLOCK_TOLERANCE_S * 1000 : 0;
  const clock = `this machine's clock says ${localTime(now)}`;
  const exp = num(d.payload.exp);
  if (exp !== null && now >= exp * 1000 + tolerance) {
    return {
      valid: false,
      reason: 'expired',
      message: `expired: at ${localTime(exp * 1000)}, ${expiryPhrase(exp * 1000, now).replace(/^expired /, '')}${tolerance > 0 ? ` (beyond DocumentServer's ${DS_CLOCK_TOLERANCE_S} s tolerance)` : ''}; ${clock}`,
    };
  }
  const nbf = num(d.payload.nbf);
  if (nbf !== null && now + tolerance < nbf * 1000) {
    return {
      valid: false,
      reason: 'not_yet_valid',
      message: `not yet valid: nbf is ${localTime(nbf * 1000)}, ${relative(nbf * 1000, now)}; ${clock} — check the clocks of the signer and of this machine (NTP)`,
    };
  }
  if (kind === 'docs') return { valid: true, message: `valid: signed with ${source} (${alg})` };

  const expected = bridgeAudienceAndIssuer();
  if (d.payload.aud !== expected.aud) {
    return { valid: false, reason: 'wrong_audience', message: `wrong audience: aud is ${JSON.stringify(d.payload.aud ?? null)}, the bridge's access tokens carry ${JSON.stringify(expected.aud)}` };
  }
  if (d.payload.iss !== expected.iss) {
    return { valid: false, reason: 'wrong_issuer', message: `wrong issuer: iss is ${JSON.stringify(d.payload.iss ?? null)}, the bridge's access tokens carry ${JSON.stringify(expected.iss)}` };
  }
  const fid = d.payload.fid;
  if (typeof fid !== 'string' || typeof d.payload.sub !== 'string' || (d.payload.w !== 0 && d.payload.w !== 1)) {
    return { valid: false, reason: 'bad_claims', message: 'not an access token of this bridge: it needs the claims sub (user), fid (file id) and w (0 or 1)' };
  }
  try {
    verifyAccessToken(secret, token, fid, now);
  } catch (e) {
    const detail = (e as { detail?: Record<string, unknown> }).detail ?? {};
    const inner = String(detail.error ?? '');
    if (inner === 'TokenExpiredError' && num(d.payload.iat) !== null) {
      return { valid: false, reason: 'too_old', message: `too old: issued ${relative((d.payload.iat as number) * 1000, now)}; the bridge refuses tokens older than 7 days whatever their exp` };
    }
    return { valid: false, reason: 'refused', message: `refused by the bridge (${String(detail.reason ?? 'invalid')}${inner ? `, ${inner}` : ''})` };
  }
  return {
    valid: true,
    message: `valid: signed with ${source} (HS256), for user ${JSON.stringify(d.payload.sub)}, file id ${fid}, ${d.payload.w === 1 ? 'can edit' : 'view only'}`,
  };
}

const SECRET_OPTIONS = { 'secret-file': { type: 'string' }, 'secret-stdin': { type: 'boolean' }, kind: { type: 'string' }, json: { type: 'boolean' } } as const;

async function verify(args: string[], cli: Cli): Promise<ExitCode> {
  const usage = 'usage: wopi-bridge jwt verify TOKEN|- [--secret-file F | --secret-stdin] [--kind wopi|docs] [--json]';
  const { values, positionals } = parse(args, SECRET_OPTIONS, { min: 1, max: 1, usage });
  const kind = kindOf(values.kind, 'wopi');
  if (positionals[0] === '-' && values['secret-stdin']) throw new UsageError('the token and the secret cannot both come from stdin; use --secret-file');
  // A secret given on the command line is read first (a mistake there is a usage error whatever the token);
  // the configured one only when needed, so a malformed token is reported even with a broken configuration.
  const given = values['secret-file'] !== undefined || values['secret-stdin'] ? await secretFor(kind, values, cli) : null;
  const token = await tokenArg(positionals[0] as string, cli);
  const now = Date.now();
  let d: Decoded | null = null;
  let verdict: Verdict;
  try {
    d = decodeToken(token);
  } catch (e) {
    if (!(e instanceof MalformedToken)) throw e;
    verdict = { valid: false, reason: 'malformed', message: `malformed token: ${e.message}` };
  }
  if (d !== null) {
    const { secret, source } = given ?? (await secretFor(kind, values, cli));
    verdict = judge(token, d, kind, secret, source, now);
  }
  verdict ??= { valid: false, reason: 'malformed', message: 'malformed token' };
  if (values.json) {
    cli.out(
      jsonText({
        valid: verdict.valid,
        ...(verdict.reason ? { reason: verdict.reason } : {}),
        message: verdict.message,
        kind,
        algorithm: d?.header.alg ?? null,
        ...(d ? timeJson(d.payload) : {}),
        now: new Date(now).toISOString(),
        token: d?.shown ?? null,
      }),
    );
  } else {
    const style = cli.style;
    const lines = [verdict.valid ? `${style.green('VALID')} ${verdict.message.replace(/^valid: /, '')}` : `${style.red('INVALID')} ${verdict.message}`];
    if (d) lines.push(`  token:      ${d.shown}`, ...timeLines(d.payload, now).map((l) => `  ${l}`));
    cli.out(lines.join('\n') + '\n');
  }
  return verdict.valid ? EXIT.OK : EXIT.CRITICAL;
}

async function sign(args: string[], cli: Cli): Promise<ExitCode> {
  const usage = 'usage: wopi-bridge jwt sign [--payload JSON] [--kind docs|wopi] [--expires-in S] [--secret-file F | --secret-stdin] [--json]';
  const { values } = parse(args, { ...SECRET_OPTIONS, payload: { type: 'string' }, 'expires-in': { type: 'string' } }, { min: 0, max: 0, usage });
  const kind = kindOf(values.kind, 'docs');
  let payload: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(values.payload ?? '{"c":"version"}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    payload = parsed as Record<string, unknown>;
  } catch {
    throw new UsageError('--payload must be a JSON object, e.g. \'{"c":"version"}\'');
  }
  const expiresIn = seconds(values['expires-in'] ?? '300', '--expires-in', 1, 7 * 24 * 3600);
  const { secret, source } = await secretFor(kind, values, cli);
  const claims: Record<string, unknown> = { ...payload };
  if (kind === 'wopi') {
    const expected = bridgeAudienceAndIssuer();
    claims.aud ??= expected.aud;
    claims.iss ??= expected.iss;
  }
  delete claims.exp;
  delete claims.iat;
  const token = jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn });
  const d = decodeToken(token);
  if (values.json) {
    cli.out(jsonText({ token, kind, header: d.header, payload: d.payload, ...timeJson(d.payload) }));
  } else {
    cli.out(`${token}\n`);
    cli.warn(`signed with ${source}, HS256, ${expiryPhrase(Date.now() + expiresIn * 1000, Date.now())}`);
  }
  return EXIT.OK;
}

const SUBCOMMANDS: Record<string, (args: string[], cli: Cli) => Promise<ExitCode>> = { decode, verify, sign };

export const jwtCommand: Command = {
  name: 'jwt',
  synopsis: [
    'jwt decode TOKEN|- [--json]',
    'jwt verify TOKEN|- [--secret-file F | --secret-stdin] [--kind wopi|docs] [--json]',
    'jwt sign [--payload JSON] [--kind docs|wopi] [--expires-in S] [--json]',
  ],
  summary: 'Decode a token, verify it against the configured or a given secret and say precisely why it fails, or sign a test payload.',
  help: `decode   header and claims, with iat/nbf/exp in local time ("expires in N min" / "expired N minutes ago").
         The signature is never printed.
verify   against WOPI_TOKEN_SECRET (--kind wopi, the default: the bridge's access tokens) or DOCS_JWT_SECRET
         (--kind docs: DocumentServer's tokens), or the secret in --secret-file / on stdin. Says why it fails:
         malformed, wrong algorithm, bad signature (wrong secret), expired (when, and this machine's clock), not
         yet valid (nbf), wrong audience or issuer, too old. DocumentServer's 60 s clock tolerance is applied for docs.
sign     signs a test payload (default {"c":"version"}, what the command service answers without a document)
         with HS256, valid --expires-in seconds (default 300), and prints the token alone on stdout.

TOKEN is the token itself or - to read it from stdin (safer: it stays out of the shell history). A token given
to decode or verify is shown back only as header.payload.<signature hidden>. No secret is ever printed.

Options:
  --kind wopi|docs        which secret and rules (verify: wopi; sign: docs)
  --secret-file F         use the secret in file F instead of the configured one
  --secret-stdin          read the secret from stdin
  --payload JSON          the claims to sign (sign)
  --expires-in S          lifetime in seconds (sign; default 300)
  --json                  one JSON document on stdout

Exit codes: 0 decoded / valid / signed, 2 malformed or invalid, 3 usage or configuration error.

Examples:
  wopi-bridge jwt decode eyJhbGciOi...
  pbpaste | wopi-bridge jwt verify -
  wopi-bridge jwt verify - --kind docs < token.txt
  wopi-bridge jwt verify - --secret-file /run/secrets/ds-jwt < token.txt
  curl -s -X POST https://office.example.com/coauthoring/CommandService.ashx -H 'Content-Type: application/json' \\
       -d "{\\"token\\":\\"$(wopi-bridge jwt sign)\\"}"
`,
  async run(args, cli) {
    const [sub, ...rest] = args;
    const fn = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (!fn) throw new UsageError('jwt needs decode, verify or sign; see wopi-bridge jwt --help');
    return fn(rest, cli);
  },
};
