/**
 * `wopi-bridge discovery`: what DocumentServer's `/hosting/discovery` says — WOPI on or off, the actions by
 * extension, and whether proof keys are published (as fingerprints, never the keys).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { pino } from 'pino';
import type { Command } from '../cli/command.js';
import { httpUrl, parse } from '../cli/args.js';
import { UsageError, exitForStatus, type Status } from '../cli/exitCodes.js';
import { jsonText, renderTable, statusLabel } from '../cli/output.js';
import { loadCliConfig } from '../cli/runtime.js';
import { ConfigError } from '../../connector/src/config/loadConfig.js';
import type { DiscoverySnapshot } from '../../connector/src/discovery/DiscoveryClient.js';
import { isDiscoveryError } from '../../connector/src/discovery/DiscoveryError.js';
import { createLogger } from '../../connector/src/logging/createLogger.js';

const LOCAL_JSON = '/etc/onlyoffice/documentserver/local.json';
const RESTART = 'then restart DocumentServer (supervisorctl restart all, or restart the container)';
const FIX = {
  wopiOff: `turn WOPI on in DocumentServer: merge {"wopi": {"enable": true}} into ${LOCAL_JSON} (Docker: -e WOPI_ENABLED=true), ${RESTART}`,
  ipfilter: `allow the bridge's address in DocumentServer's ipfilter: put {"address": "<the bridge's IP as DS sees it>", "allowed": true} first in services.CoAuthoring.ipfilter.rules in ${LOCAL_JSON}, ${RESTART}`,
  unreachable: 'check DOCS_URL (or DOCS_INTERNAL_URL): the address must be reachable from this machine; try curl -sI <DOCS_URL>/healthcheck',
  notXml: 'DOCS_URL must point at DocumentServer itself (e.g. http://docs or https://office.example.com), not at a proxy page or another service',
  noKeys:
    `DocumentServer publishes no proof keys, so the bridge cannot tell its requests from forged ones (WOPI_PROOF_MODE=auto lets them through): ` +
    `configure wopi.privateKey/publicKey/modulus/exponent and the …Old ones in ${LOCAL_JSON} (the Docker image generates them), ${RESTART}`,
} as const;

/** `SHA256:<base64>` of the key's SubjectPublicKeyInfo, as ssh-keygen -l prints fingerprints. */
export function fingerprint(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

interface ExtensionRow {
  ext: string;
  app: string;
  view: boolean;
  edit: boolean;
  editnew: boolean;
  /** The format DS converts this one to, or null. */
  convert: string | null;
}

interface Report {
  url: string;
  status: Status;
  wopi: 'on' | 'off' | 'unknown';
  problem: string | null;
  fix: string | null;
  httpStatus: number | null;
  netZone: string | null;
  proofKeys: { published: boolean; current: string | null; old: string | null; bits: number | null };
  extensions: ExtensionRow[];
}

function rowsOf(snap: DiscoverySnapshot): ExtensionRow[] {
  return [...snap.discovery.byExtension.entries()]
    .map(([ext, a]) => ({ ext, app: a.app, view: a.view !== undefined, edit: a.edit !== undefined, editnew: a.editnew !== undefined, convert: a.convert?.targetext ?? null }))
    .sort((x, y) => x.app.localeCompare(y.app) || x.ext.localeCompare(y.ext));
}

export const discoveryCommand: Command = {
  name: 'discovery',
  synopsis: ['discovery [--json] [--url DS_URL]'],
  summary: "Read DocumentServer's WOPI discovery: WOPI on or off, the actions by extension, proof keys published or not.",
  help: `Fetches DS_URL/hosting/discovery (DS_URL = --url, else DOCS_INTERNAL_URL / DOCS_URL) as the bridge does and
shows: WOPI on or off (404 = off, with the wopi.enable fix), the actions by extension (view / edit / editnew,
and convert → the format a view-only one is converted to), and whether proof keys are published (fingerprints of
the current and old public keys; a key itself is never printed).

Options:
  --url DS_URL   DocumentServer to ask (default: the configured one)
  --json         one JSON document on stdout

Exit codes: 0 WOPI on with proof keys, 1 WOPI on without proof keys, 2 unreachable / WOPI off (404) /
refused by DS's ipfilter (403) / not a discovery document, 3 usage or configuration error.

Examples:
  wopi-bridge discovery
  wopi-bridge discovery --url http://docs:8000 --json | jq '.extensions[] | select(.edit) | .ext'
`,
  async run(args, cli) {
    const { values } = parse(args, { json: { type: 'boolean' }, url: { type: 'string' } }, { min: 0, max: 0, usage: 'usage: wopi-bridge discovery [--json] [--url DS_URL]' });
    let base: string;
    let timeoutMs = 10_000;
    if (values.url !== undefined) {
      base = httpUrl(values.url, '--url');
      // The configuration only lends its timeout here; a broken one must not stop a look at DS.
      try {
        timeoutMs = (await loadCliConfig(cli)).config.docs.timeoutMs;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
      }
    } else {
      const { config } = await loadCliConfig(cli);
      if (config.docs.internalUrl === null) {
        throw new UsageError('no DocumentServer configured: set DOCS_URL (wopi-bridge config set DOCS_URL https://office.example.com) or pass --url');
      }
      base = config.docs.internalUrl;
      timeoutMs = config.docs.timeoutMs;
    }
    const log = createLogger('warn', pino.destination({ dest: 2, sync: true }));
    // Loaded only when used (axios, xml2js).
    const { DiscoveryClient, DiscoveryFetchError } = await import('../../connector/src/discovery/DiscoveryClient.js');
    const client = new DiscoveryClient({ internalUrl: base, refreshMs: 3_600_000, timeoutMs, log });
    const report: Report = {
      url: client.url,
      status: 'ok',
      wopi: 'unknown',
      problem: null,
      fix: null,
      httpStatus: null,
      netZone: null,
      proofKeys: { published: false, current: null, old: null, bits: null },
      extensions: [],
    };
    try {
      const snap = await client.refresh();
      report.httpStatus = 200;
      report.wopi = 'on';
      report.netZone = snap.discovery.netZone;
      report.extensions = rowsOf(snap);
      if (snap.keys) {
        report.proofKeys = {
          published: true,
          current: fingerprint(snap.keys.current),
          old: fingerprint(snap.keys.old),
          bits: snap.keys.current.asymmetricKeyDetails?.modulusLength ?? null,
        };
      } else {
        report.status = 'warn';
        report.problem = 'no proof keys published';
        report.fix = FIX.noKeys;
      }
    } catch (e) {
      report.status = 'fail';
      if (e instanceof DiscoveryFetchError) {
        report.httpStatus = e.status;
        report.problem = e.message;
        if (e.status === 404) {
          report.wopi = 'off';
          report.fix = FIX.wopiOff;
        } else if (e.status === 403) report.fix = FIX.ipfilter;
        else if (e.status === null) report.fix = FIX.unreachable;
        else report.fix = FIX.notXml;
      } else if (isDiscoveryError(e)) {
        report.httpStatus = 200;
        report.problem = `${report.url} is not a WOPI discovery document: ${e.message}`;
        report.fix = FIX.notXml;
      } else if (e instanceof Error && /proof-key|CSP blob/.test(e.message)) {
        // Published keys that are not RSA keys: discovery is there, the proof keys are broken.
        report.wopi = 'on';
        report.problem = `the published proof keys are unusable: ${e.message}`;
        report.fix = FIX.noKeys;
      } else throw e;
    } finally {
      client.stop();
    }

    if (values.json) {
      cli.out(jsonText(report));
      return exitForStatus(report.status);
    }
    const style = cli.style;
    const lines = [`DocumentServer discovery: ${report.url}`, `  status:     ${statusLabel(report.status, style)}${report.problem ? ` — ${report.problem}` : ''}`];
    lines.push(`  WOPI:       ${report.wopi === 'on' ? style.green('on') : report.wopi === 'off' ? style.red('off') : style.yellow('unknown')}`);
    if (report.wopi === 'on' && report.netZone !== null) lines.push(`  net-zone:   ${report.netZone}, ${report.extensions.length} extensions`);
    if (report.httpStatus === 200 && report.wopi === 'on') {
      lines.push(
        report.proofKeys.published
          ? `  proof keys: ${style.green('published')} (RSA ${report.proofKeys.bits ?? '?'} bits) current ${report.proofKeys.current}, old ${report.proofKeys.old}`
          : `  proof keys: ${style.yellow('not published')}`,
      );
    }
    if (report.fix) lines.push(`  fix:        ${report.fix}`);
    cli.out(lines.join('\n') + '\n');
    if (report.extensions.length > 0) {
      const yes = (b: boolean): string => (b ? 'yes' : style.dim('-'));
      cli.out(
        '\n' +
          renderTable(
            ['EXT', 'APP', 'VIEW', 'EDIT', 'EDITNEW', 'CONVERT'],
            report.extensions.map((r) => [r.ext, r.app, yes(r.view), yes(r.edit), yes(r.editnew), r.convert ? `→ ${r.convert}` : style.dim('-')]),
            style,
            '  ',
          ),
      );
    }
    return exitForStatus(report.status);
  },
};
