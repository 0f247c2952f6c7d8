/**
 * The DocumentServer checks as `CheckDefinition`s for `runChecks`, each with its own time limit derived from the
 * per-request timeout and how many requests it makes one after the other.
 */
import type { DocsChecksConfig } from './ChecksConfig.js';
import { checkDocsReachable, DOCS_REACHABLE_ID } from './checkDocsReachable.js';
import { checkDocsVersion, DOCS_VERSION_ID } from './checkDocsVersion.js';
import { checkJwtSecret, JWT_SECRET_ID } from './checkJwtSecret.js';
import { checkMixedContent, MIXED_CONTENT_ID } from './checkMixedContent.js';
import { checkProofKeys, PROOF_KEYS_ID } from './checkProofKeys.js';
import { checkWopiEnabled, WOPI_ENABLED_ID } from './checkWopiEnabled.js';
import type { CheckDefinition } from './runChecks.js';

/** Ids of the DocumentServer checks, in display order. */
export const DOCS_CHECK_IDS = [MIXED_CONTENT_ID, DOCS_REACHABLE_ID, DOCS_VERSION_ID, WOPI_ENABLED_ID, JWT_SECRET_ID, PROOF_KEYS_ID] as const;

/** Margin over the requests' own timeouts for reading the CA file, parsing, scheduling. */
const MARGIN_MS = 1000;

/**
 * The DocumentServer checks bound to a config.
 * @param cfg - what the checks need (see {@link DocsChecksConfig})
 * @returns definitions in display order: mixed content, reachability, version, WOPI, JWT, proof keys
 */
export function docsChecks(cfg: DocsChecksConfig): CheckDefinition[] {
  const t = cfg.timeoutMs;
  return [
    { id: MIXED_CONTENT_ID, title: 'Mixed content', timeoutMs: MARGIN_MS, run: () => checkMixedContent(cfg) },
    // /healthcheck, then /index.html when the answer was not "true"
    { id: DOCS_REACHABLE_ID, title: 'DocumentServer reachable', timeoutMs: 2 * t + MARGIN_MS, run: (signal) => checkDocsReachable(cfg, { signal }) },
    // command service, then /index.html when it gave no version
    { id: DOCS_VERSION_ID, title: 'DocumentServer version', timeoutMs: 2 * t + MARGIN_MS, run: (signal) => checkDocsVersion(cfg, { signal }) },
    { id: WOPI_ENABLED_ID, title: 'WOPI enabled', timeoutMs: t + MARGIN_MS, run: (signal) => checkWopiEnabled(cfg, { signal }) },
    // its probes run in parallel
    { id: JWT_SECRET_ID, title: 'JWT secret', timeoutMs: t + MARGIN_MS, run: (signal) => checkJwtSecret(cfg, { signal }) },
    // every node and every request in parallel
    { id: PROOF_KEYS_ID, title: 'Proof keys', timeoutMs: t + MARGIN_MS, run: (signal) => checkProofKeys(cfg, { signal }) },
  ];
}
