/**
 * Benchmark 6: what checking a request's proof and token costs, per request, with the discovery keys imported once
 * (as proofCheck does with DiscoveryClient's cached snapshot): `verifyAccessToken` (HS256 JWT) and `verifyProof`
 * (RSA-SHA256 over the token, URL and timestamp) on a request signed like DocService signs it; also the worst case
 * a valid request can cost (signed with the old key: three RSA verifications) and importing the keys.
 *
 * @module
 */
import { createSecretKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { issueAccessToken, verifyAccessToken } from '../../connector/src/tokens/accessToken.js';
import { importProofKeys, msToTicks, proofData, verifyProof, type ProofInput, type ProofKeys } from '../../connector/src/proof/proofKeys.js';
import type { BenchContext } from './context.js';
import type { Row, SectionResult } from './report.js';
import { fmt, rounded, summarize, type Summary } from './stats.js';

/** A request signed as DocService signs it, with the keys imported once. */
export interface SignedRequest {
  secret: string;
  fileId: string;
  token: string;
  url: string;
  keys: ProofKeys;
  /** Input signed with the current key (verifyProof's cheapest valid case). */
  current: ProofInput;
  /** Input signed only with the old key (the costliest valid case: three RSA verifications). */
  oldKey: ProofInput;
}

function b64(buf: string): string {
  return Buffer.from(buf, 'base64url').toString('base64');
}

function publicParts(key: KeyObject): { modulus: string; exponent: string } {
  const jwk = key.export({ format: 'jwk' });
  return { modulus: b64(jwk.n as string), exponent: b64(jwk.e as string) };
}

/**
 * Makes two RSA-2048 key pairs (current and old, as in DS's discovery), a token and a request URL, and signs it.
 * @param now the clock for the timestamp
 */
export function signedRequest(now: number = Date.now()): SignedRequest {
  const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const old = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cur = publicParts(current.publicKey);
  const prev = publicParts(old.publicKey);
  const keys = importProofKeys({ value: '', modulus: cur.modulus, exponent: cur.exponent, oldvalue: '', oldmodulus: prev.modulus, oldexponent: prev.exponent });
  const secret = 'bench-token-secret-0123456789abcdef0123456789abcdef';
  const fileId = 'fBENCHfile0000000000000';
  const { token } = issueAccessToken(secret, { userId: 'alice', fileId, canWrite: true }, 3600, now);
  const url = `http://127.0.0.1:8080/wopi/files/${fileId}?access_token=${token}`;
  const ticks = msToTicks(now);
  const data = proofData(token, url, ticks);
  const withCurrent = sign('RSA-SHA256', data, current.privateKey).toString('base64');
  const withOld = sign('RSA-SHA256', data, old.privateKey).toString('base64');
  const base = { token, url, timestamp: String(ticks), keys, now };
  return {
    secret,
    fileId,
    token,
    url,
    keys,
    current: { ...base, proof: withCurrent, proofOld: withOld },
    oldKey: { ...base, proof: withOld, proofOld: withOld },
  };
}

/**
 * Times `fn` per call: warm-up, then up to `maxCalls` calls or `maxMs`.
 * @returns per-call latency in microseconds
 */
export function microbench(fn: () => void, maxCalls: number, maxMs: number): Summary {
  for (let i = 0; i < Math.min(2000, maxCalls); i++) fn();
  const samples: number[] = [];
  const until = performance.now() + maxMs;
  for (let i = 0; i < maxCalls && performance.now() < until; i++) {
    const t = performance.now();
    fn();
    samples.push((performance.now() - t) * 1000);
  }
  return summarize(samples);
}

/**
 * Runs the microbenchmarks.
 * @param ctx the runner's context
 * @param cfiP50Ms CheckFileInfo p50 on the embedded drive from benchmark 3 (to express the cost as a share), if run
 */
export async function runCrypto(ctx: BenchContext, cfiP50Ms?: number): Promise<SectionResult> {
  const req = signedRequest();
  const maxMs = ctx.quick ? 500 : 2000;
  ctx.progress('6 proof/token', 'microbenchmarks');
  const token = microbench(() => verifyAccessToken(req.secret, req.token, req.fileId), 100_000, maxMs);
  // The same jwt.verify call as accessToken.ts, with the secret imported once as a KeyObject. Given a string,
  // jsonwebtoken 9 first tries createPublicKey(secret), which throws, on every call (node_modules/jsonwebtoken/verify.js).
  const secretKey = createSecretKey(Buffer.from(req.secret));
  const verifyOptions = { algorithms: ['HS256' as const], audience: 'wopi', issuer: 'wopi-bridge', maxAge: 7 * 24 * 3600 };
  const tokenKeyObject = microbench(() => jwt.verify(req.token, secretKey, verifyOptions), 100_000, maxMs);
  const tokenString = microbench(() => jwt.verify(req.token, req.secret, verifyOptions), 100_000, maxMs);
  const proof = microbench(() => {
    const v = verifyProof(req.current);
    if (!v.ok) throw new Error('verifyProof refused the bench request');
  }, 50_000, maxMs);
  const proofOld = microbench(() => {
    const v = verifyProof(req.oldKey);
    if (!v.ok || v.via !== 'proof-old') throw new Error('verifyProof did not accept the old-key request');
  }, 20_000, maxMs);
  const attrs = { value: '', ...rsaAttrs(req.keys) };
  const importKeys = microbench(() => importProofKeys(attrs), 5_000, maxMs);
  const share = (us: number): string => (cfiP50Ms === undefined ? '' : `; ${fmt((us / 1000 / cfiP50Ms) * 100, 1)}% of CheckFileInfo p50`);
  const both = token.p50 + proof.p50;
  const rows: Row[] = [
    { section: '6', figure: 'verifyAccessToken per request', measured: `${fmt(token.p50)} µs p50, ${fmt(token.p99)} µs p99`, target: '', verdict: 'INFO' },
    {
      section: '6',
      figure: 'jwt.verify, secret as KeyObject vs string',
      measured: `${fmt(tokenKeyObject.p50)} vs ${fmt(tokenString.p50)} µs p50 = ${fmt(tokenString.p50 / tokenKeyObject.p50, 1)}× cheaper`,
      target: '',
      verdict: 'INFO',
      note: 'connector/src/tokens/accessToken.ts passes the secret as a string to jwt.verify (and jwt.sign); jsonwebtoken then calls createPublicKey(secret), which throws, on every request. Importing it once with createSecretKey removes most of the token cost',
    },
    { section: '6', figure: 'verifyProof per request (current key)', measured: `${fmt(proof.p50)} µs p50, ${fmt(proof.p99)} µs p99`, target: '', verdict: 'INFO' },
    { section: '6', figure: 'verifyProof, old key (3 RSA checks)', measured: `${fmt(proofOld.p50)} µs p50, ${fmt(proofOld.p99)} µs p99`, target: '', verdict: 'INFO' },
    { section: '6', figure: 'proof + token per request', measured: `${fmt(both)} µs${share(both)}`, target: '', verdict: 'INFO' },
    { section: '6', figure: 'importProofKeys (once per discovery fetch)', measured: `${fmt(importKeys.p50)} µs p50`, target: '', verdict: 'INFO' },
  ];
  return {
    rows,
    details: { unit: 'µs', verifyAccessToken: rounded(token), jwtVerifyKeyObject: rounded(tokenKeyObject), jwtVerifyString: rounded(tokenString), verifyProofCurrent: rounded(proof), verifyProofOldKey: rounded(proofOld), importProofKeys: rounded(importKeys), checkFileInfoP50Ms: cfiP50Ms ?? null },
  };
}

function rsaAttrs(keys: ProofKeys): { modulus: string; exponent: string; oldvalue: string; oldmodulus: string; oldexponent: string } {
  const cur = publicParts(keys.current);
  const old = publicParts(keys.old);
  return { modulus: cur.modulus, exponent: cur.exponent, oldvalue: '', oldmodulus: old.modulus, oldexponent: old.exponent };
}
