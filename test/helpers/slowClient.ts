/**
 * Test helper: HTTP clients that misbehave on purpose — an upload that trickles its body (and can be paused,
 * finished at once or cut), and a raw-socket client that sends its request one byte at a time (slow-loris).
 * Traffic goes to 127.0.0.1 only.
 *
 * @module
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';

/** How a request ended: an answer, or the connection failing first. */
export type Outcome = { kind: 'response'; status: number; headers: IncomingHttpHeaders; body: string; ms: number } | { kind: 'error'; code: string; ms: number };

/** An upload in progress. */
export interface SlowUpload {
  /** Body bytes handed to the socket so far. */
  sent(): number;
  /** Stops trickling (the connection stays open, nothing more is sent). */
  pause(): void;
  /** Sends everything that is left at once and ends the request. */
  finishNow(): void;
  /** Destroys the connection (a client that goes away). */
  abort(): void;
  /** Resolves when the answer (or the failure) comes; never rejects. */
  outcome: Promise<Outcome>;
}

/**
 * POSTs `body` with its Content-Length, `chunkBytes` every `intervalMs` (on a connection of its own unless an
 * `agent` is given, e.g. a keep-alive one as DS uses).
 * @param url full URL (127.0.0.1)
 * @param headers request headers (Content-Length is set here)
 */
export function slowUpload(url: string, headers: Record<string, string>, body: Buffer, opts: { chunkBytes?: number; intervalMs?: number; method?: string; agent?: Agent } = {}): SlowUpload {
  const chunk = opts.chunkBytes ?? 64 * 1024;
  const interval = opts.intervalMs ?? 20;
  const started = performance.now();
  let offset = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const req = request(url, { method: opts.method ?? 'POST', agent: opts.agent ?? false, headers: { ...headers, 'Content-Length': String(body.length) } });
  const outcome = new Promise<Outcome>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = (): void => resolve({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearInterval(timer);
      resolve({ kind: 'error', code: e.code ?? e.message, ms: performance.now() - started });
    });
  });
  const finish = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    req.end(body.subarray(offset));
    offset = body.length;
  };
  const tick = (): void => {
    if (ended || req.destroyed) return clearInterval(timer);
    const next = Math.min(body.length, offset + chunk);
    req.write(body.subarray(offset, next));
    offset = next;
    if (offset >= body.length) {
      ended = true;
      clearInterval(timer);
      req.end();
    }
  };
  req.flushHeaders();
  timer = setInterval(tick, interval);
  void outcome.then(() => clearInterval(timer));
  return {
    sent: () => offset,
    pause: () => clearInterval(timer),
    finishNow: finish,
    abort: () => {
      clearInterval(timer);
      req.destroy();
    },
    outcome,
  };
}

/** How a slow client's connection ended: the server's status line, a close, or still open when the client gave up. */
export interface SlowClientOutcome {
  end: 'answered' | 'closed' | 'still-open';
  status: number | null;
  /** ms after connecting */
  ms: number;
}

/**
 * Connects to `port` and waits for the server's status line, a close, or `giveUpMs`. `drive` sends what the client
 * sends (it may report the connection closed) and returns how to stop sending.
 */
function awaitAnswer(port: number, giveUpMs: number, drive: (socket: net.Socket, closed: () => void) => () => void): Promise<SlowClientOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let got = '';
    let settled = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (end: SlowClientOutcome['end']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      stopSending();
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      resolve({ end: m ? 'answered' : end, status: m ? Number(m[1]) : null, ms: performance.now() - started });
    };
    const giveUp = setTimeout(() => finish('still-open'), giveUpMs);
    const stopSending = drive(socket, () => finish('closed'));
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n')) finish('answered');
    });
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish('closed'));
  });
}

/**
 * A client that opens a connection and sends `bytes` one at a time, every `intervalMs`, until the server closes
 * the connection or answers. Resolves with when (ms after connecting) and how that happened, or 'still-open' at
 * `giveUpMs`.
 */
export async function trickle(port: number, bytes: Buffer, opts: { intervalMs: number; giveUpMs: number; repeat?: boolean }): Promise<SlowClientOutcome & { sent: number }> {
  let sent = 0;
  const outcome = await awaitAnswer(port, opts.giveUpMs, (socket, closed) => {
    let offset = 0;
    const tick = setInterval(() => {
      if (socket.destroyed) return closed();
      if (offset >= bytes.length) {
        if (!opts.repeat) return;
        offset = 0;
      }
      socket.write(bytes.subarray(offset, offset + 1));
      offset++;
      sent++;
    }, opts.intervalMs);
    return () => clearInterval(tick);
  });
  return { ...outcome, sent };
}

/**
 * Sends `first` on a fresh connection, then nothing more. Resolves with what happened within `giveUpMs`: an answer
 * (status), a close, or still open.
 */
export function stallAfter(port: number, first: Buffer, giveUpMs: number): Promise<SlowClientOutcome> {
  return awaitAnswer(port, giveUpMs, (socket) => {
    socket.on('connect', () => socket.write(first));
    return () => undefined;
  });
}
