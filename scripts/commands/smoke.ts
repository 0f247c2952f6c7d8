/**
 * `wopi-bridge smoke <path>`: plays a whole ONLYOFFICE editing session against a running bridge exactly as
 * DocService does (reference §1.3–1.4: CheckFileInfo, Lock with lock id = file id, GetFile, RefreshLock, PutFile
 * of the same bytes with the X-LOOL-WOPI-* headers, Unlock), optionally signed with DS's proof keys, timing each
 * step; then checks that the file is byte-identical and unlocked.
 *
 * It leaves nothing behind: it refuses a file that is already locked (an open session would lose its lock),
 * writes only the bytes it read, and on any failure releases its own lock (and only its own).
 */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from '../cli/command.js';
import { httpUrl, parse, seconds } from '../cli/args.js';
import { EXIT, UsageError } from '../cli/exitCodes.js';
import { bytes, jsonText, renderTable, type Styler } from '../cli/output.js';
import { checkUserName, cliLogger, issueFileToken, loadCliConfig } from '../cli/runtime.js';
import { WopiClient, WopiTransportError, type ProofSigner, type WopiAnswer } from '../cli/wopiClient.js';

/** `FileConverter.converter.maxDownloadBytes`: DS's X-WOPI-MaxExpectedSize on GetFile. */
const DS_MAX_DOWNLOAD_BYTES = 104_857_600;

/** Content-Type DS sends on PutFile, by extension (others: application/octet-stream). */
const MIME: Record<string, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  pdf: 'application/pdf',
  rtf: 'application/rtf',
  txt: 'text/plain',
  csv: 'text/csv',
};

type Phase = 'preflight' | 'session' | 'verify' | 'cleanup';

interface Step {
  name: string;
  phase: Phase;
  result: 'ok' | 'fail' | 'skipped';
  /** HTTP status, null when no answer came (or skipped). */
  status: number | null;
  ms: number | null;
  note: string;
  /** X-WOPI-LockFailureReason of a refused request. */
  lockFailureReason?: string;
  /** X-WOPI-Lock of the answer (GetLock, or a 409). */
  lock?: string;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function privateKey(file: string, flag: string): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(file);
  } catch (e) {
    throw new UsageError(`${flag} ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UsageError(`${flag} ${file}: not a PEM private key (DocumentServer's wopi.privateKey is one)`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new UsageError(`${flag} ${file}: not an RSA key`);
  return key;
}

const SESSION_STEPS = ['CheckFileInfo', 'Lock', 'GetFile', 'RefreshLock', 'PutFile', 'Unlock'] as const;

function header(a: WopiAnswer, name: string): string | undefined {
  const v = a.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export const smokeCommand: Command = {
  name: 'smoke',
  synopsis: ['smoke <path> [--bridge URL] [--proof-key FILE [--proof-key-old FILE]] [--user NAME] [--json] [--timeout S]'],
  summary: 'Play a whole ONLYOFFICE editing session against a running bridge, as DocumentServer does, and check the file is unchanged and unlocked.',
  help: `Steps, with DocService's headers (User-Agent Node.js/6.13, X-WOPI-TimeStamp in .NET ticks, X-WOPI-CorrelationId,
X-WOPI-SessionId, X-WOPI-ClientVersion; the token only in access_token):
  GetLock (before)  the file must be unlocked: an open editing session is never touched
  CheckFileInfo     must allow editing (UserCanWrite, SupportsLocks)
  Lock              X-WOPI-Lock = the file id, as DS does
  GetFile           X-WOPI-MaxExpectedSize: 104857600; the bytes are kept
  RefreshLock
  PutFile           the same bytes, X-WOPI-Lock, X-WOPI-Editors, X-LOOL-WOPI-IsModifiedByUser/IsAutosave/IsExitSave,
                    X-LOOL-WOPI-Timestamp (CheckFileInfo's LastModifiedTime) — an exit save
  Unlock
then checks GetLock → '' and that a new GetFile has the same sha256. A failing step is reported with its status
and X-WOPI-LockFailureReason; the smoke test then releases its own lock and never writes other bytes than it read.

The access token is issued like \`wopi-bridge token\` does (same configuration; run it where the bridge runs, with
the same DATA_DIR). The bridge is reached at PUBLIC_URL unless --bridge says otherwise.

Options:
  --bridge URL         base URL of the running bridge (default PUBLIC_URL)
  --proof-key FILE     sign every request with this RSA private key (PEM): DocumentServer's wopi.privateKey.
                       Used for X-WOPI-Proof and, unless --proof-key-old is given, X-WOPI-ProofOld
  --proof-key-old FILE the old key (wopi.privateKeyOld) for X-WOPI-ProofOld
  --user NAME          user of the session (default: smoke)
  --timeout S          longest wait for one answer (default 30)
  --json               one JSON document on stdout

The bridge checks proofs against PUBLIC_URL: sign only when --bridge is (or reaches the bridge as) PUBLIC_URL.

Exit codes: 0 every step passed, 2 a step failed (or the file does not exist), 3 usage or configuration error.

Examples:
  wopi-bridge smoke /Welcome.docx
  wopi-bridge smoke "/Team/Q3 report.xlsx" --json
  docker exec onlyoffice cat /etc/onlyoffice/documentserver/local.json | jq -r .wopi.privateKey > ds.pem
  wopi-bridge smoke /Welcome.docx --proof-key ds.pem --bridge https://wopi.example.com
`,
  failureExit: EXIT.CRITICAL,
  async run(args, cli) {
    const { values, positionals } = parse(
      args,
      {
        bridge: { type: 'string' },
        'proof-key': { type: 'string' },
        'proof-key-old': { type: 'string' },
        user: { type: 'string' },
        json: { type: 'boolean' },
        timeout: { type: 'string' },
      },
      { min: 1, max: 1, usage: 'smoke needs exactly one path, e.g. wopi-bridge smoke /Welcome.docx' },
    );
    const user = values.user ?? 'smoke';
    if (!checkUserName(user)) throw new UsageError('--user must be 1 to 100 printable characters');
    const timeoutMs = seconds(values.timeout ?? '30', '--timeout', 1, 3600) * 1000;
    const bridgeArg = values.bridge === undefined ? null : httpUrl(values.bridge, '--bridge');
    if (values['proof-key-old'] !== undefined && values['proof-key'] === undefined) throw new UsageError('--proof-key-old needs --proof-key');
    let proof: ProofSigner | null = null;
    if (values['proof-key'] !== undefined) {
      const current = await privateKey(values['proof-key'], '--proof-key');
      const old = values['proof-key-old'] !== undefined ? await privateKey(values['proof-key-old'], '--proof-key-old') : current;
      proof = { current, old };
    }

    const { config } = await loadCliConfig(cli);
    const base = bridgeArg ?? config.publicUrl;
    if (proof && base !== config.publicUrl) {
      cli.warn(`warning: the bridge checks proofs against PUBLIC_URL (${config.publicUrl}); requests signed for ${base} pass only if it is the same address`);
    }
    const t = await issueFileToken(config, cliLogger(config), positionals[0] as string, { user, canWrite: true }, EXIT.CRITICAL);
    const src = `${base}/wopi/files/${t.fileId}`;
    const lockId = t.fileId;
    const scrub = (s: string): string => s.split(t.token).join('<token>').split(encodeURIComponent(t.token)).join('<token>');
    const client = new WopiClient({ src, token: t.token, proof, timeoutMs, maxBodyBytes: DS_MAX_DOWNLOAD_BYTES + 1024 * 1024 });

    const steps: Step[] = [];
    /** What the session learnt; an object, as the step callbacks fill it in. */
    const st: {
      failed: Step | null;
      original: Buffer | null;
      lockAttempted: boolean;
      unlocked: boolean;
      lastModified?: string;
      size: number | null;
      preflightLocked: boolean;
      shaAfter: string | null;
      stillLocked: boolean | null;
    } = { failed: null, original: null, lockAttempted: false, unlocked: false, size: null, preflightLocked: false, shaAfter: null, stillLocked: null };
    const started = performance.now();

    /**
     * Sends one request and records it as a step: a status other than 200 (204 for POSTs) fails it, else `check`
     * judges the answer ({ problem } fails the step, { note } describes it). Token-free notes only.
     * @returns the answer when the step passed, else null
     */
    const step = async (
      name: string,
      phase: Phase,
      method: 'GET' | 'POST',
      suffix: '' | '/contents',
      headers: Record<string, string>,
      body: Buffer | null,
      check: (a: WopiAnswer) => { problem: string } | { note: string },
    ): Promise<WopiAnswer | null> => {
      let a: WopiAnswer;
      try {
        a = await client.request(method, suffix, headers, body);
      } catch (e) {
        if (!(e instanceof WopiTransportError)) throw e;
        const s: Step = { name, phase, result: 'fail', status: null, ms: e.ms, note: scrub(e.message) };
        steps.push(s);
        if (phase !== 'cleanup') st.failed ??= s;
        return null;
      }
      const okStatus = method === 'GET' ? a.status === 200 : a.status === 200 || a.status === 204;
      const s: Step = { name, phase, result: 'ok', status: a.status, ms: a.ms, note: '' };
      const reason = header(a, 'X-WOPI-LockFailureReason');
      const lock = header(a, 'X-WOPI-Lock');
      if (reason !== undefined) s.lockFailureReason = reason;
      if (lock !== undefined) s.lock = lock;
      if (!okStatus) {
        s.result = 'fail';
        const text = a.body.toString('utf8').trim().split('\n')[0]?.slice(0, 160) ?? '';
        const parts = [`answered ${a.status}`];
        if (reason !== undefined) parts.push(`X-WOPI-LockFailureReason: ${reason}`);
        if (lock !== undefined && a.status === 409) parts.push(`X-WOPI-Lock: ${JSON.stringify(lock)}`);
        if (text !== '' && reason === undefined) parts.push(JSON.stringify(text));
        s.note = scrub(parts.join('; '));
      } else {
        const verdict = check(a);
        if ('problem' in verdict) {
          s.result = 'fail';
          s.note = scrub(verdict.problem);
        } else s.note = scrub(verdict.note);
      }
      steps.push(s);
      if (s.result === 'fail') {
        if (phase !== 'cleanup') st.failed ??= s;
        return null;
      }
      return a;
    };

    const lockHeaders = (override: string): Record<string, string> => ({ 'X-WOPI-Override': override, 'X-WOPI-Lock': lockId });

    try {
      // Not something DS sends: made sure first that no editing session is open, since DS's lock id (the file id)
      // is the one this test uses and its Unlock would end that session's lock.
      const pre = await step('GetLock (before)', 'preflight', 'POST', '', { 'X-WOPI-Override': 'GET_LOCK' }, null, (a) => {
        const current = header(a, 'X-WOPI-Lock') ?? '';
        if (current !== '') {
          st.preflightLocked = true;
          return { problem: `the file is locked (lock id ${current}): an editing session is open or a lock is stuck; the smoke test does not touch it (see wopi-bridge locks show ${t.fileId})` };
        }
        return { note: 'unlocked' };
      });

      if (pre) {
        const cfi = await step('CheckFileInfo', 'session', 'GET', '', {}, null, (a) => {
          let info: Record<string, unknown>;
          try {
            info = JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
          } catch {
            return { problem: 'the answer is not JSON' };
          }
          if (typeof info.BaseFileName !== 'string' || info.BaseFileName === '') return { problem: 'no BaseFileName: DS would show "editor could not be loaded"' };
          if (info.SupportsLocks !== true) return { problem: 'SupportsLocks is not true: DS would never lock the file' };
          if (info.UserCanWrite !== true || info.ReadOnly === true) return { problem: 'UserCanWrite is not true (or ReadOnly): DS would open the file view-only' };
          st.size = typeof info.Size === 'number' ? info.Size : null;
          if (typeof info.LastModifiedTime === 'string') st.lastModified = info.LastModifiedTime;
          return { note: `${info.BaseFileName}, ${st.size === null ? 'size ?' : bytes(st.size)}, version ${String(info.Version ?? '?')}` };
        });
        if (cfi) {
          st.lockAttempted = true;
          const locked = await step('Lock', 'session', 'POST', '', lockHeaders('LOCK'), null, () => ({ note: `lock id ${lockId}` }));
          const got =
            locked &&
            (await step('GetFile', 'session', 'GET', '/contents', { 'X-WOPI-MaxExpectedSize': String(DS_MAX_DOWNLOAD_BYTES) }, null, (a) => {
              if (st.size !== null && a.body.length !== st.size) return { problem: `got ${a.body.length} bytes, CheckFileInfo said Size ${st.size}` };
              st.original = a.body;
              return { note: `${bytes(a.body.length)}, sha256 ${sha256(a.body).slice(0, 16)}…` };
            }));
          const refreshed = got && (await step('RefreshLock', 'session', 'POST', '', lockHeaders('REFRESH_LOCK'), null, () => ({ note: 'lock kept' })));
          const body = st.original;
          const put =
            refreshed &&
            body !== null &&
            (await step(
              'PutFile',
              'session',
              'POST',
              '/contents',
              {
                'Content-Type': MIME[t.path.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream',
                'X-WOPI-Override': 'PUT',
                'X-WOPI-Lock': lockId,
                'X-WOPI-Editors': user,
                'X-LOOL-WOPI-IsModifiedByUser': 'true',
                'X-LOOL-WOPI-IsAutosave': 'false',
                'X-LOOL-WOPI-IsExitSave': 'true',
                ...(st.lastModified !== undefined ? { 'X-LOOL-WOPI-Timestamp': st.lastModified } : {}),
              },
              body,
              () => ({ note: `the same ${bytes(body.length)} (exit save)` }),
            ));
          if (put) {
            const u = await step('Unlock', 'session', 'POST', '', lockHeaders('UNLOCK'), null, () => ({ note: 'released' }));
            if (u) st.unlocked = true;
          }
        }
      }
    } finally {
      // Cleanup: our own lock only (a lock with another id belongs to someone else).
      if (st.lockAttempted && !st.unlocked) {
        let current: string | undefined;
        const gl = await step('GetLock (cleanup)', 'cleanup', 'POST', '', { 'X-WOPI-Override': 'GET_LOCK' }, null, (a) => {
          current = header(a, 'X-WOPI-Lock') ?? '';
          return { note: current === '' ? 'unlocked: nothing to release' : current === lockId ? 'still locked by the smoke test' : `locked by someone else (${current}): left alone` };
        });
        if (gl === null || current === lockId) {
          await step('Unlock (cleanup)', 'cleanup', 'POST', '', lockHeaders('UNLOCK'), null, () => ({ note: 'our lock released' }));
        }
      }
      if (steps[0]?.result === 'ok') {
        await step('GetLock (after)', 'verify', 'POST', '', { 'X-WOPI-Override': 'GET_LOCK' }, null, (a) => {
          const current = header(a, 'X-WOPI-Lock') ?? '';
          st.stillLocked = current !== '';
          return current === '' ? { note: 'unlocked' } : { problem: `still locked (lock id ${current})${current === lockId ? `: release it with wopi-bridge locks release ${t.fileId} --yes` : ''}` };
        });
        const before = st.original;
        if (before !== null) {
          await step('GetFile (after)', 'verify', 'GET', '/contents', { 'X-WOPI-MaxExpectedSize': String(DS_MAX_DOWNLOAD_BYTES) }, null, (a) => {
            const after = sha256(a.body);
            st.shaAfter = after;
            return after === sha256(before) ? { note: 'byte-identical' } : { problem: `the file differs from what GetFile read (${bytes(a.body.length)}, sha256 ${after.slice(0, 16)}…)` };
          });
        }
      }
      client.close();
    }

    // In order, with the steps a failure kept from running, so the report shows how far the session got.
    const shown: Step[] = [
      ...steps.filter((s) => s.phase === 'preflight'),
      ...SESSION_STEPS.map((name) => steps.find((s) => s.name === name) ?? { name, phase: 'session' as const, result: 'skipped' as const, status: null, ms: null, note: '' }),
      ...steps.filter((s) => s.phase === 'cleanup'),
      ...steps.filter((s) => s.phase === 'verify'),
    ];
    const totalMs = Math.round(performance.now() - started);
    const shaBefore = st.original === null ? null : sha256(st.original);
    const { shaAfter, stillLocked } = st;
    const failure = st.failed;
    const leftBehind: string[] = [];
    if (stillLocked === true) leftBehind.push('a lock');
    const conflictCopy = steps.find((s) => s.name === 'PutFile' && /saved as "/.test(s.lockFailureReason ?? ''));
    if (conflictCopy) leftBehind.push(`a conflict copy the bridge made of the (identical) PutFile body: ${conflictCopy.lockFailureReason}`);
    const ok = failure === null;

    if (values.json) {
      cli.out(
        jsonText({
          ok,
          path: t.path,
          fileId: t.fileId,
          bridge: base,
          wopiSrc: src,
          user,
          signed: proof !== null,
          sessionId: client.sessionId,
          totalMs,
          failedStep: failure?.name ?? null,
          failure: failure ? failure.note : null,
          steps: shown,
          sha256Before: shaBefore,
          sha256After: shaAfter,
          unchanged: shaBefore !== null && shaAfter !== null ? shaBefore === shaAfter : null,
          unlocked: stillLocked === null ? null : !stillLocked,
          leftBehind,
        }),
      );
    } else {
      const style = cli.style;
      cli.out(`Smoke test of ${t.path} (file id ${t.fileId}) at ${base}, as DocumentServer would${proof ? ', signed with the proof key' : ', unsigned'}:\n`);
      cli.out(renderTable(['STEP', 'RESULT', 'STATUS', 'TIME', 'NOTE'], shown.map((s) => stepRow(s, style)), style, '  '));
      cli.out(summary(st.preflightLocked, ok, failure, totalMs, shaBefore, shaAfter, stillLocked, leftBehind, style) + '\n');
    }
    return ok ? EXIT.OK : EXIT.CRITICAL;
  },
};

function stepRow(s: Step, style: Styler): string[] {
  const result = s.result === 'ok' ? style.green('ok') : s.result === 'fail' ? style.red('FAIL') : style.dim('skipped');
  return [s.phase === 'session' ? s.name : style.dim(s.name), result, s.status === null ? '-' : String(s.status), s.ms === null ? '' : `${s.ms} ms`, s.note];
}

function summary(
  preflightLocked: boolean,
  ok: boolean,
  failure: Step | null,
  totalMs: number,
  shaBefore: string | null,
  shaAfter: string | null,
  stillLocked: boolean | null,
  leftBehind: string[],
  style: Styler,
): string {
  if (ok) return `${style.green('OK')}: a whole editing session worked in ${totalMs} ms; the file is byte-identical (sha256 ${shaBefore ?? '?'}) and unlocked.`;
  const parts = [`${style.red('CRITICAL')}: ${failure?.name} failed: ${failure?.note}.`];
  if (preflightLocked) parts.push('Nothing was sent to the file beyond that question.');
  else if (leftBehind.length === 0) {
    const state = [
      shaBefore !== null && shaAfter !== null ? (shaBefore === shaAfter ? 'the file is unchanged' : 'the file CHANGED') : 'no bytes were written',
      stillLocked === false ? 'unlocked' : stillLocked === null ? 'lock state not verified' : 'still locked',
    ];
    parts.push(`Left behind: nothing (${state.join(', ')}).`);
  } else parts.push(`Left behind: ${leftBehind.join('; ')}.`);
  return parts.join(' ');
}
