/** One `d:response` of a 207 Multi-Status: its href and the props that came with status 200. */
export interface DavEntry {
  href: string;
  props: Record<string, string | boolean>;
}

/** An element of the parsed document: its local name (prefix dropped), child elements and text. */
interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/** Deepest nesting accepted (a multistatus needs 6; Nextcloud props with children a few more). */
const MAX_DEPTH = 64;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five XML entities and character references; anything else is an error. */
function decodeText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{0,10});/g, (_m, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isInteger(code) || code < 0 || code > 0x10ffff) throw new Error(`bad character reference &${ref};`);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[ref];
    if (v === undefined) throw new Error(`unknown entity &${ref};`);
    return v;
  });
}

/** The local name of a qualified name ('d:getetag' → 'getetag'); the namespace is not checked (servers vary). */
function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

const NAME = /^[A-Za-z_][\w.:-]*$/;

/**
 * A small strict XML reader for WebDAV answers: elements, attributes (skipped), text, CDATA, comments, processing
 * instructions. Refuses a DOCTYPE, mismatched or unclosed tags, text or a second element outside the root, and
 * unknown entities. Iterative (no recursion), linear in the input.
 * @throws Error on anything that is not well-formed
 */
function parseXml(xml: string): XmlElement {
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = xml.length;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.text += decodeText(raw);
      else if (raw.trim() !== '') throw new Error('text outside the root element');
    }
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end < 0) throw new Error('unclosed comment');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      if (end < 0) throw new Error('unclosed CDATA');
      const top = stack[stack.length - 1];
      if (!top) throw new Error('CDATA outside the root element');
      top.text += xml.slice(lt + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<?', lt)) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) throw new Error('unclosed processing instruction');
      i = end + 2;
    } else if (xml.startsWith('<!', lt)) {
      throw new Error('DOCTYPE or declaration not allowed');
    } else if (xml.startsWith('</', lt)) {
      const end = xml.indexOf('>', lt + 2);
      if (end < 0) throw new Error('unclosed end tag');
      const qname = xml.slice(lt + 2, end).trim();
      const top = stack.pop();
      if (!top || top.name !== qname) throw new Error(`unexpected </${qname.slice(0, 40)}>`);
      i = end + 1;
    } else {
      const end = findTagEnd(xml, lt + 1);
      const selfClosing = xml.charCodeAt(end - 1) === 0x2f; // '/'
      const inner = xml.slice(lt + 1, selfClosing ? end - 1 : end);
      const m = /^[^\s/>]+/.exec(inner);
      const qname = m?.[0] ?? '';
      if (!NAME.test(qname)) throw new Error(`bad element name "${qname.slice(0, 40)}"`);
      checkAttributes(inner.slice(qname.length));
      const el: XmlElement = { name: qname, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new Error('a second root element');
      else root = el;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) throw new Error('nested too deeply');
        stack.push(el);
      }
      i = end + 1;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]?.name ?? ''}>`);
  if (!root) throw new Error('no root element');
  return relabel(root);
}

/** The index of the '>' that ends a start tag beginning at `from`, skipping quoted attribute values. */
function findTagEnd(xml: string, from: number): number {
  let quote = 0;
  for (let j = from; j < xml.length; j++) {
    const c = xml.charCodeAt(j);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) return j;
    else if (c === 0x3c) throw new Error('"<" inside a tag');
  }
  throw new Error('unclosed start tag');
}

const ATTRIBUTE = /\s+([A-Za-z_][\w.:-]*)\s*=\s*(?:"[^"<]*"|'[^'<]*')/y;

/** Checks that the rest of a start tag is attributes only (their values are not needed). */
function checkAttributes(rest: string): void {
  if (rest.trim() === '') return;
  ATTRIBUTE.lastIndex = 0;
  let at = 0;
  while (ATTRIBUTE.lastIndex < rest.length) {
    at = ATTRIBUTE.lastIndex;
    if (!ATTRIBUTE.test(rest)) {
      if (rest.slice(at).trim() === '') return;
      throw new Error('bad attribute');
    }
  }
}

/** Replaces qualified names by local names, for the whole tree (iteratively). */
function relabel(root: XmlElement): XmlElement {
  const todo = [root];
  for (let el = todo.pop(); el; el = todo.pop()) {
    el.name = localName(el.name);
    for (const c of el.children) todo.push(c);
  }
  return root;
}

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** A prop's value: its text, or for one with child elements (resourcetype, share-types…) their names. */
function valueOf(el: XmlElement): string {
  if (el.children.length === 0) return el.text;
  return [...new Set(el.children.map((c) => c.name))].join(' ');
}

/**
 * Parses a PROPFIND / SEARCH 207 body. Namespace prefixes are dropped (servers use d:, D:, lp1: …);
 * props in a non-2xx propstat (e.g. Nextcloud's 404 propstat for unknown props) are left out. Hrefs come back as
 * sent (percent-encoded, or not: webdav-server leaves '#' and '?' as they are), trimmed.
 * @throws Error when the body is not well-formed XML or not a multistatus document
 */
export async function parseMultistatus(xml: string): Promise<DavEntry[]> {
  const ms = parseXml(xml);
  if (ms.name !== 'multistatus') throw new Error('not a multistatus response');
  const entries: DavEntry[] = [];
  for (const r of ms.children) {
    if (r.name !== 'response') continue;
    const href = child(r, 'href')?.text.trim() ?? '';
    const props: Record<string, string | boolean> = {};
    for (const ps of r.children) {
      if (ps.name !== 'propstat') continue;
      const status = child(ps, 'status')?.text ?? '';
      if (!/\s2\d\d\s/.test(` ${status} `)) continue;
      for (const prop of ps.children) {
        if (prop.name !== 'prop') continue;
        for (const p of prop.children) {
          if (p.name === 'resourcetype') props.collection = p.children.some((c) => c.name === 'collection');
          else props[p.name] = valueOf(p);
        }
      }
    }
    entries.push({ href, props });
  }
  return entries;
}
