/**
 * WOPI proof keys: does DocumentServer publish them (it publishes none unless `wopi.publicKey`… are configured;
 * then the bridge cannot prove that WOPI requests come from DS), do they fit the bridge's proof mode, and — with
 * several DS nodes behind a load balancer — do all nodes agree on version, proof keys and JWT secret? A node with
 * its own keys signs requests the bridge cannot verify against the keys another node published.
 */
import { createHash } from 'node:crypto';
import { measureCheck, describeError, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { SETTING, type CheckOptions, type ChecksProofMode, type DocsChecksConfig } from './ChecksConfig.js';
import type { ProofKeyAttributes } from '../discovery/parseDiscovery.js';
import { importCspBlob, importProofKeys } from '../proof/proofKeys.js';
import { parseIndexBanner } from './docServiceAnswers.js';
import { displayUrl, endpoint, parseHttpUrl } from './docsUrls.js';
import { statusText } from './explainAnswer.js';
import { discoveryFailure, fetchDiscoveryForCheck, type DiscoveryFetch } from './checkWopiEnabled.js';
import { proofKeysCommands, proofKeysFix } from './localJsonSnippets.js';
import { msg, type CheckMessage, type CheckMessages } from './checkMessages.js';
import { LOCAL_JSON } from './ChecksConfig.js';
import { isTransportFailure, probeHttp, resolveTls, type ProbeTls } from './probeHttp.js';
import { probeVersionCommand, type VersionProbe } from './versionCommand.js';

export const PROOF_KEYS_ID = 'proof_keys';

/**
 * Checks the proof keys of DS (one node: `internalUrl`; a cluster: every `nodeUrls` entry, compared).
 * @param cfg - `internalUrl`, `nodeUrls`, `proofMode`, `jwtSecret`, TLS, `timeoutMs`
 * @param opts - cancellation
 * @returns ok (keys published, bridge verifies them; all nodes agree), warn (no keys published in mode auto; keys
 *   published but mode off), fail (no keys in mode enforce; a published key the bridge cannot read; a node that
 *   cannot be asked; nodes that disagree — named), skipped (no DS address, or discovery unavailable in mode auto/off)
 */
export function checkProofKeys(cfg: DocsChecksConfig, opts: CheckOptions = {}): Promise<CheckResult> {
  return measureCheck(PROOF_KEYS_ID, () => proofKeys(cfg, opts), cfg.now);
}

/** `1a2b3c4d5e6f`: short SHA-256 of a base64 modulus, to compare and show keys without printing them. */
export function keyFingerprint(modulusB64: string): string {
  return createHash('sha256').update(Buffer.from(modulusB64, 'base64')).digest('hex').slice(0, 12);
}

/** Why the published key cannot be used, or null when it can. */
export function proofKeyProblem(key: ProofKeyAttributes): string | null {
  try {
    const keys = importProofKeys(key);
    for (const [blob, rsa, name] of [
      [key.value, keys.current, 'value'],
      [key.oldvalue, keys.old, 'oldvalue'],
    ] as const) {
      if (!blob) continue;
      const fromBlob = importCspBlob(blob).export({ format: 'jwk' }).n;
      if (fromBlob !== rsa.export({ format: 'jwk' }).n) return `the ${name} blob and the ${name === 'value' ? 'modulus' : 'oldmodulus'} describe different keys`;
    }
    return null;
  } catch (e) {
    return describeError(e);
  }
}

/**
 * The verdict for keys that are the same everywhere (pure).
 * @param key - the published key, or null
 * @param mode - the bridge's proof mode
 * @param nodes - how many DS nodes were compared (1 = no cluster)
 */
export function judgeProofKeys(key: ProofKeyAttributes | null, mode: ChecksProofMode, nodes: number): CheckOutcome {
  const id = PROOF_KEYS_ID;
  const cluster = nodes > 1;
  const p = { nodes, setting: SETTING.proofMode, mode };
  const fixMessage = proofKeysFixMessage(cluster);
  const where = cluster ? `All ${nodes} DocumentServer nodes agree (version, keys, JWT) and` : 'DocumentServer';
  if (!key) {
    const data = { published: false, proofMode: mode, nodes };
    if (mode === 'enforce') {
      return {
        id,
        status: 'fail',
        summary: `${where} ${cluster ? 'publish' : 'publishes'} no WOPI proof key, but ${SETTING.proofMode}=enforce: the bridge refuses every WOPI request.`,
        fix: `${proofKeysFix(cluster)}\nOr set ${SETTING.proofMode}=auto until the keys are in place.`,
        data,
        messages: {
          summary: msg(cluster ? 'proof_none_enforce_cluster' : 'proof_none_enforce', p),
          fix: msg(cluster ? 'proof_keys_fix_cluster_or_auto' : 'proof_keys_fix_or_auto', { ...(fixMessage.params ?? {}), ...p }),
        },
      };
    }
    return {
      id,
      status: 'warn',
      summary: `${where} ${cluster ? 'publish' : 'publishes'} no WOPI proof key: the bridge cannot prove that WOPI requests come from DocumentServer.`,
      detail:
        'DocumentServer publishes <proof-key> in its discovery only when wopi.publicKey/privateKey (and the *Old pair) are configured. ' +
        'Without it, anyone holding a valid access token can call the WOPI endpoints.',
      fix: proofKeysFix(cluster),
      data,
      messages: { summary: msg(cluster ? 'proof_none_cluster' : 'proof_none', p), detail: msg('proof_none_detail'), fix: fixMessage },
    };
  }
  const problem = proofKeyProblem(key);
  const data = {
    published: true,
    proofMode: mode,
    nodes,
    current: keyFingerprint(key.modulus),
    old: keyFingerprint(key.oldmodulus),
    rotated: key.modulus !== key.oldmodulus,
  };
  if (problem) {
    return {
      id,
      status: 'fail',
      summary: `DocumentServer publishes a WOPI proof key the bridge cannot use: ${problem}.`,
      fix: proofKeysFix(cluster),
      data,
      messages: { summary: msg('proof_unusable', { problem }), fix: fixMessage },
    };
  }
  if (mode === 'off') {
    return {
      id,
      status: 'warn',
      summary: `${where} ${cluster ? 'publish' : 'publishes'} WOPI proof keys, but the bridge does not check them (${SETTING.proofMode}=off).`,
      fix: `Set ${SETTING.proofMode}=auto (or enforce) so the bridge refuses WOPI requests that DocumentServer did not sign.`,
      data,
      messages: { summary: msg(cluster ? 'proof_off_cluster' : 'proof_off', p), fix: msg('proof_off_fix', p) },
    };
  }
  return {
    id,
    status: 'ok',
    summary: `${where} ${cluster ? 'publish' : 'publishes'} WOPI proof keys (current ${data.current}, old ${data.old}); the bridge verifies them (${SETTING.proofMode}=${mode}).`,
    data,
    messages: { summary: msg(cluster ? 'proof_ok_cluster' : 'proof_ok', { ...p, current: data.current, old: data.old }) },
  };
}

/** The translatable form of {@link proofKeysFix}: the commands and local.json path as parameters. */
function proofKeysFixMessage(cluster: boolean): CheckMessage {
  return msg(cluster ? 'proof_keys_fix_cluster' : 'proof_keys_fix', { commands: proofKeysCommands(), localJson: LOCAL_JSON });
}

/** What one node says. */
interface NodeFacts {
  url: string;
  discovery: DiscoveryFetch;
  version: string | null;
  /** How the node treats the bridge's tokens, in words (compared between nodes). */
  jwt: string;
}

function jwtFacts(secretSet: boolean, signed: VersionProbe, wrong: VersionProbe | null): string {
  const c = (p: VersionProbe | null): number | undefined => p?.answer?.error;
  if (!signed.outcome.ok) return `cannot be asked (${signed.outcome.failure.kind})`;
  if (!signed.answer) return `command service answered ${statusText(signed.outcome.status)}`;
  if (!secretSet) return c(signed) === 0 ? 'accepts requests without a token' : c(signed) === 6 ? 'requires a token' : `error ${c(signed)}`;
  if (c(signed) === 6) return 'rejects the bridge\'s secret';
  if (c(signed) === 7) return 'sees the bridge\'s token as expired (clock)';
  if (c(signed) !== 0) return `error ${c(signed)}`;
  return c(wrong) === 0 ? 'does not check tokens' : 'accepts the bridge\'s secret';
}

async function nodeFacts(url: string, cfg: DocsChecksConfig, tls: ProbeTls, opts: CheckOptions): Promise<NodeFacts> {
  const probe = { timeoutMs: cfg.timeoutMs, tls, signal: opts.signal, setting: SETTING.nodeUrls };
  const vOpts = { ...probe, now: cfg.now ?? Date.now };
  const secret = cfg.jwtSecret || null;
  const [discovery, signed, wrong, index] = await Promise.all([
    fetchDiscoveryForCheck(url, probe),
    probeVersionCommand(url, secret ? { kind: 'body', secret } : { kind: 'none' }, vOpts),
    secret ? probeVersionCommand(url, { kind: 'wrong_secret' }, vOpts) : Promise.resolve(null),
    probeHttp(endpoint(url, '/index.html'), probe),
  ]);
  const banner = index.ok && index.status === 200 ? parseIndexBanner(index.body) : null;
  const version = signed.answer?.error === 0 && signed.answer.version ? signed.answer.version : (banner?.text ?? null);
  return { url: displayUrl(url), discovery, version, jwt: jwtFacts(secret !== null, signed, wrong) };
}

function keyLabel(d: DiscoveryFetch): string {
  if (!d.ok) return 'unavailable';
  const k = d.discovery.proofKey;
  return k ? `key ${keyFingerprint(k.modulus)} (old ${keyFingerprint(k.oldmodulus)})` : 'no key';
}

/** Groups node URLs by a value: `[[value, [urls]]]`, in the order values first appear. */
function groupBy(nodes: NodeFacts[], value: (n: NodeFacts) => string): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const n of nodes) {
    const v = value(n);
    groups.set(v, [...(groups.get(v) ?? []), n.url]);
  }
  return [...groups.entries()];
}

async function proofKeys(cfg: DocsChecksConfig, opts: CheckOptions): Promise<CheckOutcome> {
  const id = PROOF_KEYS_ID;
  const mode = cfg.proofMode ?? 'auto';
  const nodeUrls = [...new Set((cfg.nodeUrls ?? []).map((u) => u.trim()).filter(Boolean))];
  const tls = await resolveTls(cfg);
  if (isTransportFailure(tls)) return { id, status: 'fail', summary: tls.summary, fix: tls.fix, data: { transport: tls.kind }, ...(tls.messages ? { messages: tls.messages } : {}) };

  if (nodeUrls.length < 2) {
    const base = parseHttpUrl(cfg.internalUrl);
    if (!base) return { id, status: 'skipped', summary: 'No usable DocumentServer address is configured (see the reachability check).', messages: { summary: msg('no_docs_url') } };
    const fetched = await fetchDiscoveryForCheck(base.toString(), { timeoutMs: cfg.timeoutMs, tls, signal: opts.signal });
    if (!fetched.ok) {
      const why = discoveryFailure(id, fetched, SETTING.internalUrl);
      if (mode === 'enforce') {
        return {
          ...why,
          summary: `The bridge cannot read the proof keys, and with ${SETTING.proofMode}=enforce it refuses every WOPI request until it can. Cause: ${why.summary}`,
          // The page shows the cause (translated) as the detail; the fix is the cause's.
          ...(why.messages ? { messages: { ...why.messages, summary: msg('proof_unreadable_enforce', { setting: SETTING.proofMode }), detail: why.messages.summary } } : {}),
        };
      }
      return {
        id,
        status: 'skipped',
        summary: 'The proof keys cannot be read because discovery is unavailable (see the WOPI check).',
        detail: why.summary,
        ...(why.messages ? { messages: { summary: msg('proof_no_discovery'), detail: why.messages.summary } } : {}),
      };
    }
    return judgeProofKeys(fetched.discovery.proofKey, mode, 1);
  }

  const bad = nodeUrls.filter((u) => !parseHttpUrl(u));
  if (bad.length > 0) {
    return {
      id,
      status: 'fail',
      summary: `${SETTING.nodeUrls} holds addresses that are not http(s) URLs: ${bad.map(displayUrl).join(', ')}.`,
      fix: `Write each DocumentServer node in ${SETTING.nodeUrls} as a full URL, comma-separated, e.g. http://10.0.0.11:8091,http://10.0.0.12:8092.`,
      messages: { summary: msg('proof_bad_nodes', { setting: SETTING.nodeUrls, urls: bad.map(displayUrl).join(', ') }), fix: msg('proof_bad_nodes_fix', { setting: SETTING.nodeUrls }) },
    };
  }
  const nodes = await Promise.all(nodeUrls.map((u) => nodeFacts(u, cfg, tls, opts)));
  const problems: string[] = [];
  const data: Record<string, unknown> = {
    nodes: nodes.map((n) => ({ url: n.url, version: n.version, proofKey: keyLabel(n.discovery), jwt: n.jwt, wopi: n.discovery.ok })),
  };
  const unavailable = nodes.filter((n) => !n.discovery.ok);
  for (const n of unavailable) {
    const d = n.discovery as Extract<DiscoveryFetch, { ok: false }>;
    problems.push(`${n.url}: ${discoveryFailure(id, d, SETTING.nodeUrls).summary}`);
  }
  // Compare the nodes that answered; the others are reported as unavailable, not as disagreeing.
  const answering = nodes.filter((n) => n.discovery.ok);
  const disagreements: string[] = [];
  for (const [what, value] of [
    ['version', (n: NodeFacts) => n.version ?? 'unknown'],
    ['WOPI proof keys', (n: NodeFacts) => keyLabel(n.discovery)],
    ['JWT', (n: NodeFacts) => n.jwt],
  ] as const) {
    const groups = groupBy(answering, value);
    if (groups.length > 1) disagreements.push(`${what}: ${groups.map(([v, urls]) => `${urls.join(', ')} → ${v}`).join('; ')}`);
  }
  if (problems.length === 0 && disagreements.length === 0) {
    const first = nodes[0]?.discovery;
    const verdict = judgeProofKeys(first?.ok ? first.discovery.proofKey : null, mode, nodes.length);
    return { ...verdict, data: { ...(verdict.data ?? {}), ...data } };
  }
  const odd = [...new Set(disagreementNodes(answering))];
  const fixes: string[] = [];
  if (disagreements.some((d) => d.startsWith('WOPI proof keys'))) fixes.push(`Give every node the same proof keys: ${proofKeysFix(true)}`);
  if (disagreements.some((d) => d.startsWith('JWT'))) fixes.push('Give every node the same secrets (services.CoAuthoring.secret.inbox/outbox/browser.string) and token settings in its local.json, and restart it.');
  if (disagreements.some((d) => d.startsWith('version'))) fixes.push('Run the same DocumentServer version on every node (upgrade them together).');
  if (unavailable.length > 0) fixes.push(`Make every node in ${SETTING.nodeUrls} answer /hosting/discovery (see each node's problem above), or remove nodes that are gone.`);
  const parts: string[] = [];
  if (unavailable.length > 0) parts.push(`Some DocumentServer nodes cannot be asked: ${unavailable.map((n) => n.url).join(', ')}.`);
  if (disagreements.length > 0) {
    parts.push(`${unavailable.length > 0 ? 'The other' : 'The DocumentServer'} nodes disagree (${disagreements.map((d) => d.split(':')[0]).join(', ')}): ${odd.join(', ')}.`);
  }
  return {
    id,
    status: 'fail',
    summary: parts.join(' '),
    detail: [...problems, ...disagreements].join('\n'),
    fix: fixes.join('\n'),
    data: { ...data, disagreements, unavailable: unavailable.map((n) => n.url) },
    messages: clusterMessages(
      unavailable.map((n) => n.url),
      disagreements.map((d) => d.split(':')[0] ?? ''),
      odd,
      [...problems, ...disagreements].join('\n'),
    ),
  };
}

/**
 * The translatable form of a cluster's disagreement: which properties differ is a parameter with its own words
 * (`msg.differ.<which>`), each fix line one too (`msg.<line>Fix.on`, empty when it does not apply); the evidence
 * (each node's answer) stays as it came.
 * @param unavailable - nodes that could not be asked
 * @param differ - the properties that differ (`version`, `WOPI proof keys`, `JWT`)
 * @param odd - the odd nodes out
 * @param evidence - the English detail
 */
function clusterMessages(unavailable: string[], differ: string[], odd: string[], evidence: string): CheckMessages {
  const which = [differ.includes('version') ? 'version' : '', differ.includes('WOPI proof keys') ? 'keys' : '', differ.includes('JWT') ? 'jwt' : ''].filter(Boolean).join('_');
  const p = { unavailable: unavailable.join(', '), differ: which, nodes: odd.join(', ') };
  const summary =
    unavailable.length > 0 && differ.length > 0
      ? msg('proof_cluster_unavailable_disagree', p)
      : unavailable.length > 0
        ? msg('proof_cluster_unavailable', p)
        : msg('proof_cluster_disagree', p);
  const lines = {
    jwtFix: differ.includes('JWT') ? 'on' : '',
    versionFix: differ.includes('version') ? 'on' : '',
    nodesFix: unavailable.length > 0 ? 'on' : '',
    setting: SETTING.nodeUrls,
  };
  const fix = differ.includes('WOPI proof keys')
    ? msg('proof_cluster_keys_fix', { ...lines, commands: proofKeysCommands(), localJson: LOCAL_JSON })
    : msg('proof_cluster_fix', lines);
  return { summary, detail: msg('proof_cluster_detail', { evidence }), fix };
}

/** Nodes outside the largest group of any compared property (the odd ones out; all when there is no majority). */
function disagreementNodes(nodes: NodeFacts[]): string[] {
  const out: string[] = [];
  for (const value of [(n: NodeFacts) => n.version ?? 'unknown', (n: NodeFacts) => keyLabel(n.discovery), (n: NodeFacts) => n.jwt]) {
    const groups = groupBy(nodes, value);
    if (groups.length < 2) continue;
    const sizes = groups.map(([, urls]) => urls.length);
    const max = Math.max(...sizes);
    const majority = sizes.filter((s) => s === max).length === 1 ? groups.find(([, urls]) => urls.length === max)?.[0] : undefined;
    for (const [v, urls] of groups) if (v !== majority) out.push(...urls);
  }
  return out;
}
