import { verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDiscovery, type ProofKeyAttributes } from '../../../connector/src/discovery/parseDiscovery.js';
import {
  importCspBlob,
  importProofKeys,
  msToTicks,
  PROOF_MAX_AGE_MS,
  proofData,
  ticksToMs,
  verifyProof,
  type ProofInput,
  type ProofKeys,
} from '../../../connector/src/proof/proofKeys.js';
import { fixturesDir } from '../../helpers/sharedDir.js';

const ONLYOFFICE = fixturesDir('onlyoffice');
/** Our own fixtures; tests run from the repository root (as test/helpers/sharedDir.ts assumes). */
const OWN_FIXTURES = path.resolve(process.cwd(), 'test/fixtures/proof');

// ---- captured DocService 9.3.1 data -------------------------------------------------------------------------------

const dsKeyAttrs: ProofKeyAttributes = (() => {
  const k = parseDiscovery(readFileSync(path.join(ONLYOFFICE, 'discovery.xml'), 'utf8')).proofKey;
  if (!k) throw new Error('captured discovery.xml has no proof-key');
  return k;
})();
const DS_KEYS = importProofKeys(dsKeyAttrs);

interface VerificationEntry {
  file: string;
  method: string;
  url: string;
  'X-WOPI-TimeStamp': string;
  timestamp_as_utc: string;
  signed_url_as_host_saw_it: string;
  access_token: string;
  'X-WOPI-Proof_verifies_with_current_key(modulus/exponent)': boolean;
  'X-WOPI-Proof_verifies_with_current_key(value CSP blob)': boolean;
  'X-WOPI-Proof_verifies_with_old_key': boolean;
  'X-WOPI-ProofOld_verifies_with_old_key': boolean;
  'X-WOPI-ProofOld_verifies_with_current_key': boolean;
}
const verification = JSON.parse(readFileSync(path.join(ONLYOFFICE, 'wopi-proof-verification.json'), 'utf8')) as {
  requests: VerificationEntry[];
};

/** A WOPI request DocService made, as captured in wopi-from-docservice/ (LF line ends; headers end at the first empty line). */
interface DsRequest {
  entry: VerificationEntry;
  method: string;
  target: string;
  token: string;
  url: string;
  timestamp: string;
  proof: string;
  proofOld: string;
  /** `now` for verification: the capture's own time (DS ran 7–150 ms behind the host). */
  now: number;
}

function readDsRequest(entry: VerificationEntry): DsRequest {
  const raw = readFileSync(path.join(ONLYOFFICE, 'wopi-from-docservice', entry.file), 'utf8');
  const [requestLine = '', ...lines] = raw.slice(0, raw.search(/\r?\n\r?\n/)).split(/\r?\n/);
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const need = (name: string): string => {
    const v = headers.get(name);
    if (v === undefined) throw new Error(`${entry.file}: no ${name}`);
    return v;
  };
  const [method = '', target = ''] = requestLine.split(' ');
  const timestamp = need('x-wopi-timestamp');
  return {
    entry,
    method,
    target,
    token: entry.access_token,
    url: entry.signed_url_as_host_saw_it,
    timestamp,
    proof: need('x-wopi-proof'),
    proofOld: need('x-wopi-proofold'),
    now: ticksToMs(BigInt(timestamp)) + 150,
  };
}

const DS_REQUESTS = verification.requests.map(readDsRequest);
const S1 = DS_REQUESTS[0] as DsRequest;
const S1_LOCK = DS_REQUESTS[1] as DsRequest;

function dsInput(r: DsRequest, over: Partial<ProofInput> = {}): ProofInput {
  return { token: r.token, url: r.url, timestamp: r.timestamp, proof: r.proof, proofOld: r.proofOld, keys: DS_KEYS, now: r.now, ...over };
}

function signatureValid(r: DsRequest, signature: string, key: KeyObject): boolean {
  return verify('RSA-SHA256', proofData(r.token, r.url, BigInt(r.timestamp)), key, Buffer.from(signature, 'base64'));
}

// ---- Microsoft's published vectors --------------------------------------------------------------------------------

interface MsVector {
  name: string;
  description: string;
  expected: boolean;
  expectedVia?: 'current' | 'proofold-current' | 'proof-old';
  accessToken: string;
  timestamp: string;
  url: string;
  proof: string;
  proofOld: string;
}
const ms = JSON.parse(readFileSync(path.join(OWN_FIXTURES, 'ms-proof-key-vectors.json'), 'utf8')) as {
  source: { repo: string; path: string; commit: string };
  discovery: ProofKeyAttributes;
  vectors: MsVector[];
};
const MS_KEYS = importProofKeys(ms.discovery);
const MS_CSP_KEYS: ProofKeys = { current: importCspBlob(ms.discovery.value), old: importCspBlob(ms.discovery.oldvalue) };

function msInput(v: MsVector, keys: ProofKeys): ProofInput {
  return {
    token: v.accessToken,
    url: v.url,
    timestamp: v.timestamp,
    proof: v.proof,
    proofOld: v.proofOld,
    keys,
    // The vectors are from 2015: judge them at their own time.
    now: ticksToMs(BigInt(v.timestamp)),
  };
}

function sameKey(a: KeyObject, b: KeyObject): void {
  const ja = a.export({ format: 'jwk' });
  const jb = b.export({ format: 'jwk' });
  expect({ n: ja.n, e: ja.e }).toEqual({ n: jb.n, e: jb.e });
}

// -------------------------------------------------------------------------------------------------------------------

describe('captured DocService 9.3.1 WOPI requests (wopi-from-docservice/, wopi-proof-verification.json)', () => {
  test('all 17 calls are there, and the capture is self-consistent', () => {
    expect(DS_REQUESTS).toHaveLength(17);
    for (const r of DS_REQUESTS) {
      expect(r.target).toBe(r.entry.url);
      expect(r.entry['X-WOPI-TimeStamp']).toBe(r.timestamp);
      expect(new Date(ticksToMs(BigInt(r.timestamp))).toISOString()).toBe(r.entry.timestamp_as_utc);
      expect(new URL(r.url).searchParams.get('access_token')).toBe(r.token);
    }
  });

  test.each(DS_REQUESTS.map((r) => [r.entry.file, r] as const))('%s: X-WOPI-Proof verifies with the current key', (_f, r) => {
    expect(verifyProof(dsInput(r))).toEqual({ ok: true, via: 'current' });
  });

  test('each signature against each key matches what the README and the JSON report', () => {
    for (const r of DS_REQUESTS) {
      const e = r.entry;
      expect(signatureValid(r, r.proof, DS_KEYS.current)).toBe(e['X-WOPI-Proof_verifies_with_current_key(modulus/exponent)']);
      expect(signatureValid(r, r.proof, DS_KEYS.current)).toBe(true);
      expect(signatureValid(r, r.proof, DS_KEYS.old)).toBe(e['X-WOPI-Proof_verifies_with_old_key']);
      expect(signatureValid(r, r.proof, DS_KEYS.old)).toBe(false);
      // DS signs ProofOld with its *old* key (README: "ProofOld with the old key, in 17 of 17 calls").
      expect(signatureValid(r, r.proofOld, DS_KEYS.old)).toBe(e['X-WOPI-ProofOld_verifies_with_old_key']);
      expect(signatureValid(r, r.proofOld, DS_KEYS.old)).toBe(true);
      expect(signatureValid(r, r.proofOld, DS_KEYS.current)).toBe(e['X-WOPI-ProofOld_verifies_with_current_key']);
      expect(signatureValid(r, r.proofOld, DS_KEYS.current)).toBe(false);
    }
  });

  test('keys imported from the CSP blobs (value/oldvalue) give the same verdicts', () => {
    const csp: ProofKeys = { current: importCspBlob(dsKeyAttrs.value), old: importCspBlob(dsKeyAttrs.oldvalue) };
    for (const r of DS_REQUESTS) {
      expect(verifyProof(dsInput(r, { keys: csp }))).toEqual({ ok: true, via: 'current' });
      expect(signatureValid(r, r.proof, csp.current)).toBe(r.entry['X-WOPI-Proof_verifies_with_current_key(value CSP blob)']);
    }
  });

  test('the other two accepted combinations, seen from a host whose discovery differs from DS', () => {
    // Host's current key = DS's old key: the ProofOld matches the host's current key.
    expect(verifyProof(dsInput(S1, { keys: { current: DS_KEYS.old, old: MS_KEYS.old } }))).toEqual({ ok: true, via: 'proofold-current' });
    // Host's old key = DS's current key (host already has a newer discovery): the Proof matches the host's old key.
    expect(verifyProof(dsInput(S1, { keys: { current: MS_KEYS.current, old: DS_KEYS.current } }))).toEqual({ ok: true, via: 'proof-old' });
  });
});

describe(`Microsoft's proof-key test vectors (${ms.source.repo} ${ms.source.path})`, () => {
  test('the fixture names its source and holds the 8 published cases', () => {
    expect(ms.source.repo).toBe('microsoft/Office-Online-Test-Tools-and-Documentation');
    expect(ms.source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(ms.vectors).toHaveLength(8);
    expect(ms.vectors.filter((v) => v.expected)).toHaveLength(6);
  });

  test.each(ms.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    for (const keys of [MS_KEYS, MS_CSP_KEYS]) {
      const verdict = verifyProof(msInput(v, keys));
      if (v.expected) expect(verdict).toEqual({ ok: true, via: v.expectedVia });
      else expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  test('the MS CSP blobs hold the same keys as modulus/exponent', () => {
    sameKey(MS_CSP_KEYS.current, MS_KEYS.current);
    sameKey(MS_CSP_KEYS.old, MS_KEYS.old);
  });

  test('the vectors fail the 20-minute rule at any time after 2015', () => {
    const v = ms.vectors[0] as MsVector;
    expect(verifyProof({ ...msInput(v, MS_KEYS), now: Date.UTC(2026, 0, 1) })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });
});

describe('verifyProof refuses', () => {
  test('the wrong keys (Microsoft’s keys against a DocService request)', () => {
    expect(verifyProof(dsInput(S1, { keys: MS_KEYS }))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test('a URL changed by one character; case does not matter (the URL is upper-cased)', () => {
    expect(verifyProof(dsInput(S1, { url: S1.url.replace('/files/1?', '/files/2?') }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyProof(dsInput(S1, { url: `${S1.url}x` }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyProof(dsInput(S1, { url: S1.url.replace('127.0.0.1:8090', '127.0.0.1:8091') }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyProof(dsInput(S1, { url: S1.url.toUpperCase() }))).toEqual({ ok: true, via: 'current' });
  });

  test('a changed token', () => {
    expect(verifyProof(dsInput(S1, { token: `${S1.token}x` }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyProof(dsInput(S1, { token: S1.token.replace('abc', 'abd') }))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test('a changed timestamp (one tick, still inside the window)', () => {
    const ts = (BigInt(S1.timestamp) + 1n).toString();
    expect(verifyProof(dsInput(S1, { timestamp: ts }))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test('a timestamp more than 20 minutes old; exactly 20 minutes passes', () => {
    const t = ticksToMs(BigInt(S1.timestamp));
    expect(PROOF_MAX_AGE_MS).toBe(20 * 60 * 1000);
    expect(verifyProof(dsInput(S1, { now: t + PROOF_MAX_AGE_MS }))).toEqual({ ok: true, via: 'current' });
    expect(verifyProof(dsInput(S1, { now: t + PROOF_MAX_AGE_MS + 1 }))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyProof(dsInput(S1, { now: t + 1001, maxAgeMs: 1000 }))).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  test('a timestamp more than 20 minutes in the future (signer clock far ahead); a few seconds ahead passes', () => {
    const t = ticksToMs(BigInt(S1.timestamp));
    expect(verifyProof(dsInput(S1, { now: t - 5000 }))).toEqual({ ok: true, via: 'current' });
    expect(verifyProof(dsInput(S1, { now: t - PROOF_MAX_AGE_MS - 1 }))).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  test('missing or empty X-WOPI-Proof / X-WOPI-TimeStamp; a missing ProofOld alone is fine', () => {
    expect(verifyProof(dsInput(S1, { proof: undefined }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyProof(dsInput(S1, { proof: '' }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyProof(dsInput(S1, { timestamp: undefined }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyProof(dsInput(S1, { timestamp: '' }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyProof(dsInput(S1, { proof: undefined, proofOld: undefined, timestamp: undefined }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyProof(dsInput(S1, { proofOld: undefined }))).toEqual({ ok: true, via: 'current' });
  });

  test.each(['abc', '-1', '1.5', '1e18', '0x10', '+639309272890860000', '639309272890860000.0', '99999999999999999999', '9223372036854775808'])(
    'a timestamp that is not an int64 of ticks: %s',
    (timestamp) => {
      expect(verifyProof(dsInput(S1, { timestamp }))).toEqual({ ok: false, reason: 'bad_timestamp' });
    },
  );

  test('garbage signatures (bad base64, wrong length, random bytes) never throw', () => {
    for (const proof of ['!!!not base64!!!', 'AAAA', '====', Buffer.alloc(256, 7).toString('base64'), S1.proof.slice(0, -8)]) {
      expect(verifyProof(dsInput(S1, { proof, proofOld: proof }))).toEqual({ ok: false, reason: 'bad_signature' });
    }
    // A garbage ProofOld does not spoil a good Proof.
    expect(verifyProof(dsInput(S1, { proofOld: '!!!' }))).toEqual({ ok: true, via: 'current' });
  });

  test('MS-WOPI reject case: Proof invalid and ProofOld valid only against the old key', () => {
    // DS's ProofOld is signed with its old key only; pair it with a Proof that is a valid signature of another request.
    expect(signatureValid(S1, S1.proofOld, DS_KEYS.old)).toBe(true);
    expect(verifyProof(dsInput(S1, { proof: S1_LOCK.proof }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyProof(dsInput(S1, { proof: 'AAAA' }))).toEqual({ ok: false, reason: 'bad_signature' });
    // Not this case: with the two headers swapped, the ProofOld verifies with the current key, which MS-WOPI accepts.
    expect(verifyProof(dsInput(S1, { proof: S1.proofOld, proofOld: S1.proof }))).toEqual({ ok: true, via: 'proofold-current' });
  });
});

describe('proofData', () => {
  test('byte layout: uint32 BE lengths in bytes, upper-cased URL, uint32 BE 8, int64 BE ticks', () => {
    const data = proofData('aé', 'http://h/é?a=b', 0x0102030405060708n);
    const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
    const expected =
      '00000003' + '61c3a9' + // token: 3 UTF-8 bytes
      '0000000f' + hex('HTTP://H/') + 'c389' + hex('?A=B') + // 'http://h/é?a=b'.toUpperCase(): É is c3 89
      '00000008' + '0102030405060708';
    expect(data.toString('hex')).toBe(expected);
    expect(data).toHaveLength(4 + 3 + 4 + 15 + 4 + 8);
  });

  test('an empty token still gets its zero length', () => {
    expect(proofData('', 'u', 1n).toString('hex')).toBe('00000000' + '00000001' + '55' + '00000008' + '0000000000000001');
  });

  test('a timestamp outside 0 … int64 max throws RangeError', () => {
    expect(() => proofData('t', 'u', 1n << 63n)).toThrow(RangeError);
    expect(() => proofData('t', 'u', -1n)).toThrow(/int64/);
  });
});

describe('ticks ⇄ ms', () => {
  test('the Unix epoch is 621355968000000000 ticks', () => {
    expect(msToTicks(0)).toBe(621355968000000000n);
    expect(ticksToMs(621355968000000000n)).toBe(0);
  });

  test('a captured timestamp maps to the time the capture recorded', () => {
    expect(ticksToMs(639309272890860000n)).toBe(Date.parse('2026-11-22T06:54:49.086Z'));
    expect(msToTicks(Date.parse('2026-11-22T06:54:49.086Z'))).toBe(639309272890860000n);
  });

  test('sub-millisecond ticks round down; fractions of a ms are dropped; non-finite input throws', () => {
    expect(ticksToMs(621355968000000000n + 9999n)).toBe(0);
    expect(ticksToMs(621355968000000000n - 1n)).toBe(-1);
    expect(msToTicks(1.9)).toBe(621355968000010000n);
    expect(() => msToTicks(Number.NaN)).toThrow(RangeError);
  });

  test('round trip for Date.now()-sized values', () => {
    const now = 1_800_000_000_123;
    expect(ticksToMs(msToTicks(now))).toBe(now);
  });
});

describe('importCspBlob / importProofKeys', () => {
  test('the captured discovery’s CSP blobs hold the same keys as its modulus/exponent', () => {
    const blob = Buffer.from(dsKeyAttrs.value, 'base64');
    expect(blob).toHaveLength(276);
    expect(blob.subarray(0, 12).toString('hex')).toBe('0602000000a4000052534131');
    expect(blob.readUInt32LE(12)).toBe(2048);
    expect(blob.readUInt32LE(16)).toBe(65537);
    sameKey(importCspBlob(dsKeyAttrs.value), DS_KEYS.current);
    sameKey(importCspBlob(dsKeyAttrs.oldvalue), DS_KEYS.old);
    expect(DS_KEYS.current.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
  });

  test('importCspBlob rejects what is not an RSA PUBLICKEYBLOB', () => {
    const blob = Buffer.from(dsKeyAttrs.value, 'base64');
    const variant = (edit: (b: Buffer) => void): string => {
      const b = Buffer.from(blob);
      edit(b);
      return b.toString('base64');
    };
    expect(() => importCspBlob(blob.subarray(0, 200).toString('base64'))).toThrow(/276/);
    expect(() => importCspBlob('')).toThrow(/too short/);
    expect(() => importCspBlob(variant((b) => (b[0] = 0x07)))).toThrow(/PUBLICKEYBLOB/); // PRIVATEKEYBLOB
    expect(() => importCspBlob(variant((b) => b.write('RSA2', 8, 'latin1')))).toThrow(/RSA1/);
    expect(() => importCspBlob(variant((b) => b.writeUInt32LE(1024, 12)))).toThrow(/1024-bit/);
  });

  test('importProofKeys rejects an empty or unusable modulus/exponent', () => {
    expect(() => importProofKeys({ ...dsKeyAttrs, modulus: '' })).toThrow(/modulus\/exponent/);
    expect(() => importProofKeys({ ...dsKeyAttrs, oldexponent: '' })).toThrow(/oldmodulus\/oldexponent/);
  });
});
