/**
 * Reader for the `*.http` capture files in `../shared/fixtures/nextcloud/` (see that folder's README, "File format"):
 * request line, request headers, blank line, request body (exactly `Content-Length` bytes), an empty line, then the
 * response status line, response headers, blank line and the verbatim response body up to the end of the file.
 * Header lines end in CRLF; bodies keep their own line ends.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixturesDir } from './sharedDir.js';

/** Folder holding the Nextcloud captures (tests run from the repository root, /work/main). */
export const NEXTCLOUD_FIXTURE_DIR = fixturesDir('nextcloud');

/** An ordered header list, names as written in the capture. */
export type HeaderList = Array<[name: string, value: string]>;

/** The request half of a capture. */
export interface FixtureRequest {
  method: string;
  /** Request target as written (percent-encoded path plus query). */
  target: string;
  httpVersion: string;
  headers: HeaderList;
  body: Buffer;
}

/** The response half of a capture. */
export interface FixtureResponse {
  httpVersion: string;
  status: number;
  /** Reason phrase, e.g. `Precondition failed`. */
  reason: string;
  headers: HeaderList;
  body: Buffer;
}

/** One parsed capture. */
export interface HttpFixture {
  /** File name the capture was read from (or `<buffer>`). */
  file: string;
  request: FixtureRequest;
  response: FixtureResponse;
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

function parseHead(head: string): { startLine: string; headers: HeaderList } {
  const lines = head.split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers: HeaderList = [];
  for (const line of lines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`Malformed header line: ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers };
}

/**
 * First value of a header (case-insensitive name), or `undefined`.
 *
 * @param headers - header list from a fixture
 * @param name - header name, any case
 */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}

/**
 * All values of a header (case-insensitive name), in order.
 *
 * @param headers - header list from a fixture
 * @param name - header name, any case
 */
export function headerValues(headers: HeaderList, name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * Parses the raw bytes of one capture.
 *
 * @param raw - the file content
 * @param file - name used in error messages
 */
export function parseHttpFixture(raw: Buffer, file = '<buffer>'): HttpFixture {
  const reqHeadEnd = raw.indexOf(CRLFCRLF);
  if (reqHeadEnd < 0) throw new Error(`${file}: no end of request headers`);
  const reqHead = parseHead(raw.subarray(0, reqHeadEnd).toString('utf8'));
  const [method = '', target = '', reqVersion = ''] = reqHead.startLine.split(' ');
  let pos = reqHeadEnd + CRLFCRLF.length;

  let reqBody: Buffer;
  const contentLength = headerValue(reqHead.headers, 'Content-Length');
  if (contentLength !== undefined) {
    const len = Number(contentLength);
    reqBody = raw.subarray(pos, pos + len);
    pos += len;
  } else {
    // No declared body: the response follows after the separating empty line(s).
    const statusAt = raw.indexOf(Buffer.from('\r\nHTTP/'), pos - CRLF.length);
    if (statusAt < 0) throw new Error(`${file}: no response status line`);
    const between = raw.subarray(pos, statusAt).toString('utf8');
    reqBody = between.replace(/(\r\n)+$/, '') === '' ? Buffer.alloc(0) : raw.subarray(pos, statusAt);
    pos = statusAt + CRLF.length;
  }
  while (raw.subarray(pos, pos + CRLF.length).equals(CRLF)) pos += CRLF.length;
  if (raw.subarray(pos, pos + 5).toString('latin1') !== 'HTTP/') {
    throw new Error(`${file}: expected the response status line at byte ${pos}`);
  }

  const resHeadEnd = raw.indexOf(CRLFCRLF, pos);
  if (resHeadEnd < 0) throw new Error(`${file}: no end of response headers`);
  const resHead = parseHead(raw.subarray(pos, resHeadEnd).toString('utf8'));
  const m = /^(HTTP\/\d(?:\.\d)?) (\d{3})(?: (.*))?$/.exec(resHead.startLine);
  if (!m) throw new Error(`${file}: malformed status line ${JSON.stringify(resHead.startLine)}`);
  return {
    file,
    request: { method, target, httpVersion: reqVersion, headers: reqHead.headers, body: Buffer.from(reqBody) },
    response: {
      httpVersion: m[1] ?? '',
      status: Number(m[2]),
      reason: m[3] ?? '',
      headers: resHead.headers,
      body: Buffer.from(raw.subarray(resHeadEnd + CRLFCRLF.length)),
    },
  };
}

/**
 * Reads and parses one capture file.
 *
 * @param name - file name, with or without the `.http` extension (e.g. `a-put-new-docx`)
 * @param dir - folder to read from; defaults to {@link NEXTCLOUD_FIXTURE_DIR}
 */
export function readHttpFixture(name: string, dir: string = NEXTCLOUD_FIXTURE_DIR): HttpFixture {
  const file = name.endsWith('.http') ? name : `${name}.http`;
  return parseHttpFixture(readFileSync(path.join(dir, file)), file);
}
