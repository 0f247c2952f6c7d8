/** The pure verdicts of the version and proof-key checks. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { judgeDsVersion, MIN_SUPPORTED_DS_VERSION, WOPI_MIN_DS_VERSION } from '../../../connector/src/checks/checkDocsVersion.js';
import { judgeProofKeys, keyFingerprint, proofKeyProblem } from '../../../connector/src/checks/checkProofKeys.js';
import { parseDiscovery, type ProofKeyAttributes } from '../../../connector/src/discovery/parseDiscovery.js';
import { fixturesDir } from '../../helpers/sharedDir.js';

const KEY = parseDiscovery(readFileSync(path.join(fixturesDir('onlyoffice'), 'discovery.xml'), 'utf8')).proofKey as ProofKeyAttributes;

describe('judgeDsVersion', () => {
  test('thresholds: 6.4 (WOPI) and 8.0 (supported)', () => {
    expect(WOPI_MIN_DS_VERSION).toBe('6.4');
    expect(MIN_SUPPORTED_DS_VERSION).toBe('8.0');
    expect(judgeDsVersion('9.3.1.11', 'command service').status).toBe('ok');
    expect(judgeDsVersion('8.0.0.1', 'command service').status).toBe('ok');
    expect(judgeDsVersion('7.5.1.1', 'command service').status).toBe('warn');
    expect(judgeDsVersion('6.4.0.1', 'command service').status).toBe('warn');
    expect(judgeDsVersion('6.3.1.32', 'command service').status).toBe('fail');
    expect(judgeDsVersion('5', 'command service').status).toBe('warn');
  });
  test('the note travels in detail', () => {
    expect(judgeDsVersion('9.3.1', '/index.html', 'why').detail).toBe('why');
  });
});

describe('judgeProofKeys', () => {
  test('the captured key is usable; fingerprints are short and stable', () => {
    expect(proofKeyProblem(KEY)).toBeNull();
    expect(keyFingerprint(KEY.modulus)).toMatch(/^[0-9a-f]{12}$/);
    expect(keyFingerprint(KEY.modulus)).not.toBe(keyFingerprint(KEY.oldmodulus));
  });

  test.each([
    ['keys, auto', KEY, 'auto', 1, 'ok'],
    ['keys, enforce', KEY, 'enforce', 1, 'ok'],
    ['keys, off', KEY, 'off', 1, 'warn'],
    ['no keys, auto', null, 'auto', 1, 'warn'],
    ['no keys, off', null, 'off', 1, 'warn'],
    ['no keys, enforce', null, 'enforce', 1, 'fail'],
    ['cluster agrees, keys', KEY, 'auto', 3, 'ok'],
  ] as const)('%s → %s', (_n, key, mode, nodes, status) => {
    expect(judgeProofKeys(key, mode, nodes).status).toBe(status);
  });

  test('a broken key is a fail', () => {
    const broken = { ...KEY, value: KEY.oldvalue };
    expect(proofKeyProblem(broken)).toMatch(/value blob and the modulus describe different keys/);
    expect(judgeProofKeys(broken, 'auto', 1).status).toBe('fail');
    expect(proofKeyProblem({ ...KEY, modulus: 'AAAA' })).toBeTruthy();
  });

  test('the cluster wording asks for the same keys on every node', () => {
    expect(judgeProofKeys(null, 'auto', 3).fix).toMatch(/every node/);
  });
});
