import { parseStringPromise, processors } from 'xml2js';

/** One `d:response` of a 207 Multi-Status: its href and the props that came with status 200. */
export interface DavEntry {
  href: string;
  props: Record<string, string | boolean>;
}

type XmlNode = Record<string, unknown> & { _?: string; $?: Record<string, string> };

function text(node: unknown): string | boolean {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return text(node[0]);
  if (node && typeof node === 'object') {
    const n = node as XmlNode;
    if (typeof n._ === 'string') return n._;
    // An element with children (resourcetype/collection): report which children it has.
    const keys = Object.keys(n).filter((k) => k !== '$');
    return keys.length === 0 ? '' : keys.join(' ');
  }
  return '';
}

/**
 * Parses a PROPFIND / SEARCH 207 body. Namespace prefixes are dropped (servers use d:, D:, lp1: …);
 * props in a non-200 propstat (e.g. Nextcloud's 404 propstat for unknown props) are left out.
 * @throws Error when the body is not a multistatus document
 */
export async function parseMultistatus(xml: string): Promise<DavEntry[]> {
  const doc = (await parseStringPromise(xml, {
    tagNameProcessors: [processors.stripPrefix],
    attrNameProcessors: [processors.stripPrefix],
    explicitArray: true,
    xmlns: false,
  })) as Record<string, XmlNode>;
  const ms = doc.multistatus;
  if (!ms) throw new Error('not a multistatus response');
  const responses = (ms.response as XmlNode[] | undefined) ?? [];
  return responses.map((r) => {
    const href = String(text(r.href));
    const props: Record<string, string | boolean> = {};
    for (const ps of (r.propstat as XmlNode[] | undefined) ?? []) {
      const status = String(text(ps.status));
      if (!/\s2\d\d\s/.test(` ${status} `) && !/ 200/.test(status)) continue;
      for (const prop of (ps.prop as XmlNode[] | undefined) ?? []) {
        for (const [name, value] of Object.entries(prop)) {
          if (name === '$') continue;
          if (name === 'resourcetype') {
            props.collection = /\bcollection\b/.test(String(text(value)));
            continue;
          }
          props[name] = text(value);
        }
      }
    }
    return { href, props };
  });
}
