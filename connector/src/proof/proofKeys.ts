/**
 * WOPI proof keys: checks that a request really comes from the WOPI client (ONLYOFFICE DocService) that published the
 * keys in discovery. Layout and rules: shared/reference/wopi-protocol.md §1.7 and §2 "Proof keys" (MS-WOPI
 * `scenarios/proofkeys.rst`). Pure: no I/O; import the keys once per discovery, then verify each request cheaply.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { ProofKeyAttributes } from '../discovery/parseDiscovery.js';

/** The current and the old public key from discovery, as Node key objects. */
export interface ProofKeys {
  current: KeyObject;
  old: KeyObject;
}

/**
 * Outcome of {@link verifyProof}. `via` says which of the three accepted MS-WOPI combinations matched:
 * `current` (X-WOPI-Proof, current key), `proofold-current` (X-WOPI-ProofOld, current key), `proof-old`
 * (X-WOPI-Proof, old key). Anything but `current` means the client rotated keys: refresh discovery.
 */
export type ProofVerdict =
  | { ok: true; via: 'current' | 'proofold-current' | 'proof-old' }
  | { ok: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' };

/** Input of {@link verifyProof}: the request's values, the keys and the clock. */
export interface ProofInput {
  /** The access token as the client signed it: DS signs the raw (decoded) `access_token` value (§1.7). */
  token: string;
  /** The full public URL of the request, query string included (case does not matter: it is upper-cased). */
  url: string;
  /** `X-WOPI-TimeStamp`: .NET ticks as a decimal string. */
  timestamp: string | undefined;
  /** `X-WOPI-Proof` (base64). */
  proof: string | undefined;
  /** `X-WOPI-ProofOld` (base64); optional, only the `proofold-current` combination needs it. */
  proofOld: string | undefined;
  keys: ProofKeys;
  /** Current time, ms since the Unix epoch. */
  now: number;
  /** Accepted distance between `timestamp` and `now`, both ways; default {@link PROOF_MAX_AGE_MS}. */
  maxAgeMs?: number;
}

/** MS-WOPI: X-WOPI-TimeStamp must be no more than 20 minutes old. */
export const PROOF_MAX_AGE_MS = 20 * 60 * 1000;

/** .NET ticks (100 ns since 0001-01-01T00:00:00Z) at the Unix epoch. */
const EPOCH_TICKS = 621_355_968_000_000_000n;
const TICKS_PER_MS = 10_000n;
const INT64_MAX = (1n << 63n) - 1n;

/** CSP blob constants (wincrypt.h): PUBLICKEYBLOB, CUR_BLOB_VERSION, CALG_RSA_KEYX / CALG_RSA_SIGN, 'RSA1'. */
const PUBLICKEYBLOB = 0x06;
const CUR_BLOB_VERSION = 0x02;
const CALG_RSA_KEYX = 0x0000a400;
const CALG_RSA_SIGN = 0x00002400;
const RSA1 = 0x31415352;
const CSP_HEADER_BYTES = 20;

function stripLeadingZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

function rsaPublicKey(modulus: Buffer, exponent: Buffer, what: string): KeyObject {
  if (modulus.length === 0 || exponent.length === 0) throw new Error(`${what}: empty modulus or exponent`);
  try {
    return createPublicKey({
      key: {
        kty: 'RSA',
        n: stripLeadingZeros(modulus).toString('base64url'),
        e: stripLeadingZeros(exponent).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch (cause) {
    throw new Error(`${what}: not a valid RSA public key`, { cause });
  }
}

/**
 * Builds the two RSA public keys from discovery's `modulus`/`exponent` and `oldmodulus`/`oldexponent`
 * (base64 big-endian, turned into a JWK). Call once per discovery fetch, not per request.
 * @param attrs - `Discovery.proofKey`
 * @returns the current and old keys
 * @throws Error when a modulus or exponent is empty or does not form an RSA key
 */
export function importProofKeys(attrs: ProofKeyAttributes): ProofKeys {
  return {
    current: rsaPublicKey(Buffer.from(attrs.modulus, 'base64'), Buffer.from(attrs.exponent, 'base64'), 'proof-key modulus/exponent'),
    old: rsaPublicKey(Buffer.from(attrs.oldmodulus, 'base64'), Buffer.from(attrs.oldexponent, 'base64'), 'proof-key oldmodulus/oldexponent'),
  };
}

/**
 * Imports a .NET / CryptoAPI `PUBLICKEYBLOB` (discovery `value` / `oldvalue`): header `06 02 00 00`, ALG_ID
 * `00 a4 00 00` (or `00 24 00 00`), magic `RSA1`, bit length and public exponent as uint32 little-endian, then the
 * modulus little-endian. Used as a cross-check of `modulus`/`exponent`.
 * @param b64 - base64 of the blob (276 bytes for a 2048-bit key)
 * @returns the RSA public key
 * @throws Error when the blob is not an RSA PUBLICKEYBLOB or its length does not match its bit length
 */
export function importCspBlob(b64: string): KeyObject {
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < CSP_HEADER_BYTES) throw new Error(`CSP blob: ${blob.length} bytes, too short for a PUBLICKEYBLOB`);
  const algId = blob.readUInt32LE(4);
  if (blob[0] !== PUBLICKEYBLOB || blob[1] !== CUR_BLOB_VERSION || blob.readUInt16LE(2) !== 0 || (algId !== CALG_RSA_KEYX && algId !== CALG_RSA_SIGN)) {
    throw new Error('CSP blob: not an RSA PUBLICKEYBLOB (expected header 06 02 00 00 00 a4 00 00)');
  }
  if (blob.readUInt32LE(8) !== RSA1) throw new Error("CSP blob: magic is not 'RSA1'");
  const bitLength = blob.readUInt32LE(12);
  const modulusBytes = Math.ceil(bitLength / 8);
  if (bitLength === 0 || blob.length !== CSP_HEADER_BYTES + modulusBytes) {
    throw new Error(`CSP blob: ${blob.length} bytes for a ${bitLength}-bit key (expected ${CSP_HEADER_BYTES + modulusBytes})`);
  }
  const exponent = Buffer.alloc(4);
  exponent.writeUInt32BE(blob.readUInt32LE(16));
  const modulus = Buffer.from(blob.subarray(CSP_HEADER_BYTES)).reverse();
  return rsaPublicKey(modulus, exponent, 'CSP blob');
}

function uint32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * The bytes a WOPI client signs (reference §1.7): uint32 BE length + UTF-8 token, uint32 BE length + UTF-8 of
 * `url.toUpperCase()`, uint32 BE 8 + int64 BE timestamp. Lengths count bytes, not characters.
 * @param token - the access token as signed
 * @param url - the full request URL (upper-cased here)
 * @param timestamp - X-WOPI-TimeStamp in .NET ticks
 * @returns the buffer to verify the signature against
 * @throws RangeError when `timestamp` is negative or does not fit in an int64
 */
export function proofData(token: string, url: string, timestamp: bigint): Buffer {
  if (timestamp < 0n || timestamp > INT64_MAX) throw new RangeError(`proofData: timestamp ${timestamp} is not a non-negative int64`);
  const tokenBytes = Buffer.from(token, 'utf8');
  const urlBytes = Buffer.from(url.toUpperCase(), 'utf8');
  const ticks = Buffer.alloc(8);
  ticks.writeBigInt64BE(timestamp);
  return Buffer.concat([uint32be(tokenBytes.length), tokenBytes, uint32be(urlBytes.length), urlBytes, uint32be(8), ticks]);
}

/**
 * Converts .NET ticks (100 ns since 0001-01-01 UTC, the unit of X-WOPI-TimeStamp) to ms since the Unix epoch.
 * @param ticks - .NET ticks
 * @returns ms since 1970-01-01 UTC, rounded down to a whole ms
 */
export function ticksToMs(ticks: bigint): number {
  const t = ticks - EPOCH_TICKS;
  const ms = t / TICKS_PER_MS;
  return Number(t < 0n && t % TICKS_PER_MS !== 0n ? ms - 1n : ms);
}

/**
 * Converts ms since the Unix epoch to .NET ticks.
 * @param ms - e.g. `Date.now()`; fractions of a ms are dropped
 * @returns .NET ticks
 * @throws RangeError when `ms` is not finite
 */
export function msToTicks(ms: number): bigint {
  if (!Number.isFinite(ms)) throw new RangeError(`msToTicks: ${ms} is not a finite number`);
  return BigInt(Math.floor(ms)) * TICKS_PER_MS + EPOCH_TICKS;
}

function verifies(data: Buffer, signature: string, key: KeyObject): boolean {
  const sig = Buffer.from(signature, 'base64');
  if (sig.length === 0) return false;
  try {
    return verify('RSA-SHA256', data, key, sig);
  } catch {
    return false;
  }
}

/**
 * Checks X-WOPI-Proof / X-WOPI-ProofOld the MS-WOPI way: accepted when the Proof verifies with the current key, or
 * the ProofOld with the current key, or the Proof with the old key (RSASSA-PKCS1-v1_5, SHA-256). A ProofOld that
 * verifies only with the old key is rejected (MS-WOPI: answer 500).
 *
 * The timestamp must be a decimal integer (ticks) within `maxAgeMs` of `now`, in both directions: MS-WOPI bounds
 * the age at 20 minutes; we also refuse timestamps more than `maxAgeMs` in the future (reported as
 * `stale_timestamp`), so a signer whose clock is far ahead is noticed instead of producing requests that stay valid
 * for longer than 20 minutes. A few seconds of skew either way pass (DS ran 7–150 ms behind in the capture). The
 * window is checked before any RSA work, so stale or malformed requests cost nothing.
 *
 * @param input - request values, keys (import them once with {@link importProofKeys}) and the clock
 * @returns `{ ok: true, via }` or `{ ok: false, reason }`; never throws on bad header values
 */
export function verifyProof(input: ProofInput): ProofVerdict {
  const { token, url, timestamp, proof, proofOld, keys, now } = input;
  const maxAgeMs = input.maxAgeMs ?? PROOF_MAX_AGE_MS;
  if (!timestamp || !proof) return { ok: false, reason: 'missing_headers' };

  const trimmed = timestamp.trim();
  if (!/^\d{1,19}$/.test(trimmed)) return { ok: false, reason: 'bad_timestamp' };
  const ticks = BigInt(trimmed);
  if (ticks > INT64_MAX) return { ok: false, reason: 'bad_timestamp' };
  if (Math.abs(now - ticksToMs(ticks)) > maxAgeMs) return { ok: false, reason: 'stale_timestamp' };

  const data = proofData(token, url, ticks);
  if (verifies(data, proof, keys.current)) return { ok: true, via: 'current' };
  if (proofOld && verifies(data, proofOld, keys.current)) return { ok: true, via: 'proofold-current' };
  if (verifies(data, proof, keys.old)) return { ok: true, via: 'proof-old' };
  return { ok: false, reason: 'bad_signature' };
}
