/**
 * Reading DocumentServer's answers (pure): the `/index.html` banner, the command service's JSON, the ipfilter's
 * plain-text refusal, versions. Shapes from the DocService 9.3.1 captures (shared/fixtures/onlyoffice).
 */
import http from 'node:http';
import type { ProbeResponse } from './probeHttp.js';

/** A DS version, `major.minor.patch.build` (missing parts are 0). */
export interface DsVersion {
  /** As DS wrote it, e.g. `9.3.1.11` (command service) or `9.3.1.11` rebuilt from the banner. */
  text: string;
  parts: [number, number, number, number];
}

/**
 * Parses `9.3.1.11`, `9.3.1`, `8.2`.
 * @returns null for anything else
 */
export function parseDsVersion(text: string): DsVersion | null {
  const m = /^\s*(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(text);
  if (!m) return null;
  return { text: text.trim(), parts: [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)] };
}

/** Compares two versions part by part: negative when `a` is older. */
export function compareDsVersions(a: DsVersion, b: DsVersion): number {
  for (let i = 0; i < 4; i++) {
    const d = (a.parts[i] ?? 0) - (b.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The version from DS's `/index.html` banner (`Server is functioning normally. Version: 9.3.1. Build: 11. …`),
 * which DS serves without a token and outside its ipfilter.
 * @returns the version with the build number as fourth part, or null when the body is not the banner
 */
export function parseIndexBanner(body: string): DsVersion | null {
  const m = /Server is functioning normally\.\s*Version:\s*(\d+(?:\.\d+){1,2})\.?\s*(?:Build:\s*(\d+))?/i.exec(body);
  if (!m) return null;
  return parseDsVersion(m[2] ? `${m[1]}.${m[2]}` : (m[1] ?? ''));
}

/**
 * Whether an answer looks like DS's ipfilter refusal: `res.sendStatus(errorcode)` — a non-2xx status whose plain
 * text body is exactly the status text (`403` + `Forbidden` by default, captures `73`–`75`). Only 4xx other than
 * 404 count: `404 Not Found` is also DS's answer for a disabled WOPI, and a 5xx is a crash, not a filter.
 */
export function isIpFilterAnswer(res: Pick<ProbeResponse, 'status' | 'body'>): boolean {
  if (res.status < 400 || res.status > 499 || res.status === 404) return false;
  return res.body.trim() === (http.STATUS_CODES[res.status] ?? '\u0000');
}

/** The command service's JSON answer (always HTTP 200 on DS). */
export interface CommandAnswer {
  error: number;
  version?: string;
}

/**
 * Reads `{"error":N,"version":"…"}`.
 * @returns null when the answer is not a 200 JSON object with a numeric `error`
 */
export function parseCommandAnswer(res: Pick<ProbeResponse, 'status' | 'body'>): CommandAnswer | null {
  if (res.status !== 200) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const o = parsed as Record<string, unknown>;
  const error = typeof o.error === 'number' ? o.error : typeof o.error === 'string' && /^-?\d+$/.test(o.error) ? Number(o.error) : null;
  if (error === null) return null;
  const answer: CommandAnswer = { error };
  if (typeof o.version === 'string' && o.version !== '') answer.version = o.version;
  return answer;
}

/** What a command-service error code means (`c_oAscServerCommandErrors`, reference §6.2). */
export function commandErrorMeaning(code: number): string {
  switch (code) {
    case 0:
      return 'no error';
    case 1:
      return 'document key missing or no document with that key';
    case 2:
      return 'callback URL not correct';
    case 3:
      return 'internal server error';
    case 4:
      return 'no changes were applied before the forcesave command';
    case 5:
      return 'command not correct';
    case 6:
      return 'invalid token';
    case 7:
      return 'token expired';
    default:
      return `unknown error code ${code}`;
  }
}

/**
 * Clock skew from an HTTP `Date` header: DS's time minus the bridge's at the middle of the request.
 * @param dateHeader - the response's `Date` (1 s resolution)
 * @param sentMs - bridge time when the request left
 * @param receivedMs - bridge time when the answer came
 * @returns ms (positive = DS is ahead), or null without a usable header
 */
export function measureSkewMs(dateHeader: string | undefined, sentMs: number, receivedMs: number): number | null {
  if (!dateHeader) return null;
  const ds = Date.parse(dateHeader);
  if (!Number.isFinite(ds)) return null;
  // The header is truncated to the second: compare with the middle of that second.
  return Math.round(ds + 500 - (sentMs + receivedMs) / 2);
}

/** The ConvertService's answer (HTTP 200 in every case on DS, captures `30`–`34`, `83`–`87`). */
export type ConvertAnswer = { kind: 'error'; error: number } | { kind: 'converted'; percent: number | null };

/**
 * Reads `{"error":N}` / `{"endConvert":true,"fileUrl":…}` (JSON with `Accept: application/json`) or
 * `<FileResult><Error>N</Error></FileResult>` / `<EndConvert>True</EndConvert>` (XML otherwise).
 * @returns null for anything else (not 200, not one of these shapes)
 */
export function parseConvertAnswer(res: Pick<ProbeResponse, 'status' | 'body'>): ConvertAnswer | null {
  if (res.status !== 200) return null;
  const body = res.body.trim();
  if (body.startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(body);
    } catch {
      return null;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
    const r = o as Record<string, unknown>;
    const error = typeof r.error === 'number' ? r.error : typeof r.error === 'string' && /^-?\d+$/.test(r.error) ? Number(r.error) : null;
    if (error !== null && Number.isInteger(error)) return { kind: 'error', error };
    if (typeof r.endConvert === 'boolean' || typeof r.fileUrl === 'string') return { kind: 'converted', percent: typeof r.percent === 'number' ? r.percent : null };
    return null;
  }
  if (/^<(\?xml|FileResult)/i.test(body)) {
    const err = /<Error>\s*(-?\d+)\s*<\/Error>/i.exec(body);
    if (err) return { kind: 'error', error: Number(err[1]) };
    if (/<EndConvert>\s*(True|False)\s*<\/EndConvert>/i.test(body) || /<FileUrl>/i.test(body)) return { kind: 'converted', percent: null };
  }
  return null;
}

/** What a ConvertService error code means (`c_oAscServerErrorCodes` as the conversion API documents them). */
export function convertErrorMeaning(code: number): string {
  switch (code) {
    case -1:
      return 'unknown error';
    case -2:
      return 'conversion timeout';
    case -3:
      return 'conversion error';
    case -4:
      return 'error while downloading the document file to be converted';
    case -5:
      return 'incorrect password';
    case -6:
      return 'error while accessing the conversion result database';
    case -7:
      return 'input error';
    case -8:
      return 'invalid token';
    case -9:
      return 'the converter cannot determine the output format automatically';
    case -10:
      return 'size limit exceeded';
    default:
      return `unknown error code ${code}`;
  }
}
