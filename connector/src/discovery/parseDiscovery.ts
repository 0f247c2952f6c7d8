/**
 * Parser for the WOPI discovery XML that ONLYOFFICE DocService serves at `GET /hosting/discovery`
 * (docs: shared/reference/wopi-protocol.md §1.1; capture: shared/fixtures/onlyoffice/discovery.xml). Pure: no I/O.
 */
import { Parser } from 'xml2js';
import { DiscoveryError } from './DiscoveryError.js';

/** One `<action>` of an `<app>`, attributes as published. */
export interface DiscoveryAction {
  /** `view`, `edit`, `editnew`, `embedview`, `mobileView`, `mobileEdit`, `convert`, `formsubmit`, `getinfo`… */
  name: string;
  /** Extension without dot as written (`docx`); `''` for the MIME-type apps and the Capabilities app. */
  ext: string;
  /** `default="true"`. */
  default: boolean;
  /** `requires="locks,update"` split on commas; `[]` when absent. */
  requires: string[];
  /** URL template with `<name=PLACEHOLDER&>` groups; fill it with `expandUrlsrc`. */
  urlsrc: string;
  /** Only on `convert`: the format DS converts to (`docx`, `xlsx`, `pptx`). */
  targetext?: string;
}

/** One `<app>`: an Office-style app (`Word`, `Excel`, `PowerPoint`, `Pdf`), a MIME type, or `Capabilities`. */
export interface DiscoveryApp {
  name: string;
  favIconUrl?: string;
  actions: DiscoveryAction[];
}

/** The `urlsrc` of each action DS offers for one extension (Office-style apps only). */
export interface ExtensionActions {
  /** Name of the app that lists the extension: `Word`, `Excel`, `PowerPoint` or `Pdf` for DocService. */
  app: string;
  view?: string;
  edit?: string;
  editnew?: string;
  embedview?: string;
  mobileView?: string;
  mobileEdit?: string;
  /** Pdf only (fillable forms). */
  formsubmit?: string;
  /** View-only formats that DS can convert to an editable one (never for the Pdf app). */
  convert?: { urlsrc: string; targetext: string };
}

/**
 * The `<proof-key>` attributes, verbatim (base64 strings). `value`/`oldvalue` are .NET CSP PUBLICKEYBLOBs,
 * `modulus`/`oldmodulus` big-endian moduli, `exponent`/`oldexponent` big-endian exponents (`AQAB`).
 */
export interface ProofKeyAttributes {
  value: string;
  modulus: string;
  exponent: string;
  oldvalue: string;
  oldmodulus: string;
  oldexponent: string;
}

/** What a WOPI host needs from discovery. */
export interface Discovery {
  /** `name` of the net-zone used (DS always publishes one, `external-http` by default). */
  netZone: string;
  /** Every app of that net-zone in document order, including the MIME-type apps and `Capabilities`. */
  apps: DiscoveryApp[];
  /** Keyed by lower-case extension without dot (`docx`); built from actions with a non-empty `ext`. */
  byExtension: Map<string, ExtensionActions>;
  /** `null` when DS publishes no key (its default config: `wopi.publicKey`/`publicKeyOld` unset). */
  proofKey: ProofKeyAttributes | null;
  /** `urlsrc` of `<app name="Capabilities"><action name="getinfo">`, or `null`. */
  capabilitiesUrl: string | null;
}

type XmlElement = { $?: Record<string, string> } & Record<string, unknown>;

const URL_ACTIONS = ['view', 'edit', 'editnew', 'embedview', 'mobileView', 'mobileEdit', 'formsubmit'] as const;
type UrlActionName = (typeof URL_ACTIONS)[number];

function isUrlAction(name: string): name is UrlActionName {
  return (URL_ACTIONS as readonly string[]).includes(name);
}

function children(el: XmlElement, tag: string): XmlElement[] {
  const c = el[tag];
  return Array.isArray(c) ? c.filter((x): x is XmlElement => typeof x === 'object' && x !== null) : [];
}

function attr(el: XmlElement, name: string): string | undefined {
  return el.$?.[name];
}

/** First 60 characters of the body on one line, to say what came back instead of XML. */
function preview(body: string): string {
  const oneLine = body.trim().replace(/\s+/g, ' ');
  return JSON.stringify(oneLine.length > 60 ? `${oneLine.slice(0, 60)}…` : oneLine);
}

/** Parses synchronously: xml2js calls back before `parseString` returns when `async` is false. */
function parseXml(xml: string): Record<string, unknown> {
  let result: unknown;
  let error: unknown;
  let done = false;
  new Parser({ async: false, strict: true, explicitArray: true, explicitRoot: true }).parseString(
    xml,
    (err: unknown, value: unknown) => {
      // xml2js can report an error after the root closed (text after it): the error wins.
      if (err) error ??= err;
      else result ??= value;
      done = true;
    },
  );
  if (!done) throw new Error('xml2js did not parse synchronously');
  if (error !== undefined) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new DiscoveryError('not_xml', `discovery is not well-formed XML (${reason}); body starts ${preview(xml)}`, { cause: error });
  }
  if (typeof result !== 'object' || result === null) throw new DiscoveryError('not_xml', 'discovery body is empty');
  return result as Record<string, unknown>;
}

function parseAction(el: XmlElement): DiscoveryAction {
  const action: DiscoveryAction = {
    name: attr(el, 'name') ?? '',
    ext: attr(el, 'ext') ?? '',
    default: (attr(el, 'default') ?? '').toLowerCase() === 'true',
    requires: (attr(el, 'requires') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    urlsrc: attr(el, 'urlsrc') ?? '',
  };
  const targetext = attr(el, 'targetext');
  if (targetext !== undefined && targetext !== '') action.targetext = targetext;
  return action;
}

function parseApp(el: XmlElement): DiscoveryApp {
  const app: DiscoveryApp = { name: attr(el, 'name') ?? '', actions: children(el, 'action').map(parseAction) };
  const favIconUrl = attr(el, 'favIconUrl');
  if (favIconUrl !== undefined && favIconUrl !== '') app.favIconUrl = favIconUrl;
  return app;
}

/** Extension → action URLs. The first app and action listed for an extension win (document order). */
function indexByExtension(apps: DiscoveryApp[]): Map<string, ExtensionActions> {
  const byExtension = new Map<string, ExtensionActions>();
  for (const app of apps) {
    for (const action of app.actions) {
      const ext = action.ext.trim().replace(/^\./, '').toLowerCase();
      if (ext === '' || action.urlsrc === '') continue;
      let entry = byExtension.get(ext);
      if (!entry) {
        entry = { app: app.name };
        byExtension.set(ext, entry);
      }
      if (entry.app !== app.name) continue;
      if (isUrlAction(action.name)) {
        entry[action.name] ??= action.urlsrc;
      } else if (action.name === 'convert' && action.targetext !== undefined) {
        entry.convert ??= { urlsrc: action.urlsrc, targetext: action.targetext.toLowerCase() };
      }
    }
  }
  return byExtension;
}

/**
 * `<proof-key>` (child of `<wopi-discovery>`, sibling of `net-zone`). DS emits it only when both the current and
 * the old key are configured, so a key without both moduli and exponents is treated as absent.
 */
function parseProofKey(root: XmlElement): ProofKeyAttributes | null {
  const el = children(root, 'proof-key')[0];
  if (!el) return null;
  const get = (name: keyof ProofKeyAttributes): string => (attr(el, name) ?? '').trim();
  const key: ProofKeyAttributes = {
    value: get('value'),
    modulus: get('modulus'),
    exponent: get('exponent'),
    oldvalue: get('oldvalue'),
    oldmodulus: get('oldmodulus'),
    oldexponent: get('oldexponent'),
  };
  if (!key.modulus || !key.exponent || !key.oldmodulus || !key.oldexponent) return null;
  return key;
}

/**
 * Parses a WOPI discovery document. Uses the first `<net-zone>` that has apps (DS publishes exactly one).
 * @param xml - the body of `GET /hosting/discovery`
 * @returns apps, per-extension action URLs, the proof key and the capabilities URL
 * @throws DiscoveryError `not_xml` for an empty, plain-text (`Not Found` when DS has WOPI disabled, `Forbidden` from
 *   its ipfilter) or HTML body; `not_discovery` when the root element is not `<wopi-discovery>`; `no_apps` when it
 *   lists no `<app>`
 */
export function parseDiscovery(xml: string): Discovery {
  if (xml.trim() === '') throw new DiscoveryError('not_xml', 'discovery body is empty');
  if (/^\s*(?:<!doctype\s+html|<html[\s>])/i.test(xml)) {
    throw new DiscoveryError('not_xml', `discovery URL returned an HTML page, not XML; body starts ${preview(xml)}`);
  }
  if (!/^\s*</.test(xml)) {
    throw new DiscoveryError(
      'not_xml',
      `discovery URL returned text, not XML: ${preview(xml)} (DocService says "Not Found" when wopi.enable is false and "Forbidden" when its ipfilter rejects this host)`,
    );
  }
  const doc = parseXml(xml);
  const rootName = Object.keys(doc)[0] ?? '';
  const root = doc['wopi-discovery'];
  if (rootName !== 'wopi-discovery') {
    throw new DiscoveryError('not_discovery', `XML root is <${rootName}>, expected <wopi-discovery>`);
  }
  // An empty <wopi-discovery/> comes back from xml2js as '' rather than an object.
  const rootEl: XmlElement = typeof root === 'object' && root !== null ? (root as XmlElement) : {};

  const zones = children(rootEl, 'net-zone');
  const zone = zones.find((z) => children(z, 'app').length > 0);
  if (!zone) throw new DiscoveryError('no_apps', '<wopi-discovery> lists no <app> in any <net-zone>');

  const apps = children(zone, 'app').map(parseApp);
  const capabilities = apps.find((a) => a.name === 'Capabilities')?.actions.find((a) => a.name === 'getinfo');
  return {
    netZone: attr(zone, 'name') ?? '',
    apps,
    byExtension: indexByExtension(apps),
    proofKey: parseProofKey(rootEl),
    capabilitiesUrl: capabilities?.urlsrc || null,
  };
}
