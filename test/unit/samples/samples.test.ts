import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseStringPromise } from 'xml2js';
import { buildZip, crc32, ZIP_DOS_DATE, ZIP_DOS_TIME } from '../../../connector/src/samples/zipWriter.js';
import { sampleFiles, writeSampleFiles } from '../../../connector/src/samples/samples.js';

// ---------------------------------------------------------------------------------------------------------
// A tiny, strict ZIP reader: end record → central directory → local headers → inflate + CRC check.

interface ReadEntry {
  name: string;
  flags: number;
  method: number;
  time: number;
  date: number;
  data: Buffer;
}

function readZip(zip: Buffer): ReadEntry[] {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('no end of central directory record');
  const commentLen = zip.readUInt16LE(eocd + 20);
  if (eocd + 22 + commentLen !== zip.length) throw new Error('trailing bytes after end record');
  if (zip.readUInt16LE(eocd + 4) !== 0 || zip.readUInt16LE(eocd + 6) !== 0) throw new Error('multi-disk archive');
  const count = zip.readUInt16LE(eocd + 10);
  if (zip.readUInt16LE(eocd + 8) !== count) throw new Error('entry counts differ');
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (cdOffset + cdSize !== eocd) throw new Error('central directory does not end at the end record');

  const entries: ReadEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central header signature at ${p}`);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const time = zip.readUInt16LE(p + 12);
    const date = zip.readUInt16LE(p + 14);
    const crc = zip.readUInt32LE(p + 16);
    const csize = zip.readUInt32LE(p + 20);
    const usize = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen2 = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const nameBytes = zip.subarray(p + 46, p + 46 + nameLen);
    const name = nameBytes.toString(flags & 0x0800 ? 'utf8' : 'latin1');
    p += 46 + nameLen + extraLen + commentLen2;

    // Local header must agree with the central directory.
    if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`bad local header signature for ${name}`);
    const lFlags = zip.readUInt16LE(localOffset + 6);
    if (lFlags !== flags) throw new Error(`flags differ for ${name}`);
    if (lFlags & 0x0008) throw new Error('data descriptors not expected');
    if (zip.readUInt16LE(localOffset + 8) !== method) throw new Error(`method differs for ${name}`);
    if (zip.readUInt32LE(localOffset + 14) !== crc) throw new Error(`crc differs for ${name}`);
    if (zip.readUInt32LE(localOffset + 18) !== csize) throw new Error(`csize differs for ${name}`);
    if (zip.readUInt32LE(localOffset + 22) !== usize) throw new Error(`usize differs for ${name}`);
    const lNameLen = zip.readUInt16LE(localOffset + 26);
    const lExtraLen = zip.readUInt16LE(localOffset + 28);
    if (!zip.subarray(localOffset + 30, localOffset + 30 + lNameLen).equals(nameBytes)) throw new Error(`name differs for ${name}`);
    const start = localOffset + 30 + lNameLen + lExtraLen;
    const packed = zip.subarray(start, start + csize);
    let data: Buffer;
    if (method === 8) data = zlib.inflateRawSync(packed);
    else if (method === 0) data = Buffer.from(packed);
    else throw new Error(`unsupported method ${method}`);
    if (data.length !== usize) throw new Error(`size mismatch for ${name}`);
    if (zlib.crc32(data) >>> 0 !== crc) throw new Error(`CRC mismatch for ${name}`);
    entries.push({ name, flags, method, time, date, data });
  }
  if (p !== eocd) throw new Error('central directory size mismatch');
  return entries;
}

function partsOf(zip: Buffer): Map<string, Buffer> {
  return new Map(readZip(zip).map((e) => [e.name, e.data]));
}

// ---------------------------------------------------------------------------------------------------------
// OPC helpers

interface ContentTypesXml {
  Types: {
    Default?: Array<{ $: { Extension: string; ContentType: string } }>;
    Override?: Array<{ $: { PartName: string; ContentType: string } }>;
  };
}
interface RelsXml {
  Relationships: { Relationship?: Array<{ $: { Id: string; Type: string; Target: string; TargetMode?: string } }> };
}

async function contentTypes(parts: Map<string, Buffer>): Promise<{ defaults: Map<string, string>; overrides: Map<string, string> }> {
  const raw = parts.get('[Content_Types].xml');
  if (!raw) throw new Error('missing [Content_Types].xml');
  const ct = (await parseStringPromise(raw.toString('utf8'))) as ContentTypesXml;
  return {
    defaults: new Map((ct.Types.Default ?? []).map((d) => [d.$.Extension.toLowerCase(), d.$.ContentType])),
    overrides: new Map((ct.Types.Override ?? []).map((o) => [o.$.PartName, o.$.ContentType])),
  };
}

/** Source part of a .rels part ('' for the package) and the folder its targets are relative to. */
function relsSource(relsName: string): { source: string; base: string } {
  const m = /^(.*?)_rels\/([^/]*)\.rels$/.exec(relsName);
  if (!m) throw new Error(`not a rels part: ${relsName}`);
  const dir = m[1] ?? '';
  return { source: dir + (m[2] ?? ''), base: dir };
}

async function relationships(parts: Map<string, Buffer>, relsName: string): Promise<Array<{ id: string; type: string; target: string }>> {
  const raw = parts.get(relsName);
  if (!raw) return [];
  const x = (await parseStringPromise(raw.toString('utf8'))) as RelsXml;
  const { base } = relsSource(relsName);
  return (x.Relationships.Relationship ?? [])
    .filter((r) => r.$.TargetMode !== 'External')
    .map((r) => ({
      id: r.$.Id,
      type: r.$.Type,
      target: r.$.Target.startsWith('/') ? r.$.Target.slice(1) : path.posix.normalize(path.posix.join(base, r.$.Target)),
    }));
}

function relsNameFor(part: string): string {
  const dir = path.posix.dirname(part);
  return `${dir === '.' ? '' : `${dir}/`}_rels/${path.posix.basename(part)}.rels`;
}

const OFFICE_DOCUMENT = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';

const EXPECTED: Record<string, { main: string; mainType: string; parts: string[] }> = {
  'Welcome.docx': {
    main: 'word/document.xml',
    mainType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
    parts: ['word/styles.xml', 'docProps/core.xml', 'docProps/app.xml', 'word/_rels/document.xml.rels'],
  },
  'Budget.xlsx': {
    main: 'xl/workbook.xml',
    mainType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
    parts: ['xl/worksheets/sheet1.xml', 'xl/styles.xml', 'docProps/core.xml', 'docProps/app.xml'],
  },
  'Slides.pptx': {
    main: 'ppt/presentation.xml',
    mainType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
    parts: [
      'ppt/slides/slide1.xml',
      'ppt/slideLayouts/slideLayout1.xml',
      'ppt/slideMasters/slideMaster1.xml',
      'ppt/theme/theme1.xml',
      'docProps/core.xml',
      'docProps/app.xml',
    ],
  },
};
const OFFICE_FILES = Object.keys(EXPECTED);

function sample(name: string): Buffer {
  const f = sampleFiles().find((s) => s.name === name);
  if (!f) throw new Error(`no sample ${name}`);
  return f.data;
}

// ---------------------------------------------------------------------------------------------------------

describe('buildZip', () => {
  it('round-trips entries through an independent reader, with UTF-8 names and empty files', () => {
    const big = Buffer.from('wopi-bridge '.repeat(5000));
    const zip = buildZip([
      { name: 'a.txt', data: 'hello' },
      { name: 'dir/empty.bin', data: Buffer.alloc(0) },
      { name: 'grüße/ünïcödé €.txt', data: 'ä' },
      { name: 'big.txt', data: big },
    ]);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['a.txt', 'dir/empty.bin', 'grüße/ünïcödé €.txt', 'big.txt']);
    expect(entries.map((e) => e.data.toString('utf8'))).toEqual(['hello', '', 'ä', big.toString('utf8')]);
    for (const e of entries) {
      expect(e.method).toBe(8);
      expect(e.date).toBe(ZIP_DOS_DATE);
      expect(e.time).toBe(ZIP_DOS_TIME);
    }
    expect(entries[2]?.flags).toBe(0x0800); // UTF-8 flag for the non-ASCII name
    expect(entries[0]?.flags).toBe(0);
    expect(zip.length).toBeLessThan(big.length / 10); // actually deflated
  });

  it('is deterministic', () => {
    const input = [{ name: 'x.xml', data: '<x/>' }];
    expect(buildZip(input).equals(buildZip(input))).toBe(true);
    expect(sampleFiles().map((f) => f.data.toString('base64'))).toEqual(sampleFiles().map((f) => f.data.toString('base64')));
  });

  it('builds a valid empty archive', () => {
    const zip = buildZip([]);
    expect(zip.length).toBe(22);
    expect(readZip(zip)).toEqual([]);
  });

  it('rejects invalid and duplicate names', () => {
    expect(() => buildZip([{ name: '', data: '' }])).toThrow(/empty/);
    expect(() => buildZip([{ name: '/abs', data: '' }])).toThrow(/invalid/);
    expect(() => buildZip([{ name: 'a/../b', data: '' }])).toThrow(/invalid/);
    expect(() => buildZip([{ name: 'a\\b', data: '' }])).toThrow(/invalid/);
    expect(() => buildZip([{ name: 'a', data: '1' }, { name: 'a', data: '2' }])).toThrow(/duplicate/);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

describe('sampleFiles', () => {
  it('returns the four samples in order', () => {
    expect(sampleFiles().map((f) => f.name)).toEqual(['Welcome.docx', 'Budget.xlsx', 'Slides.pptx', 'Notes.txt']);
  });

  it('Notes.txt is plain UTF-8 text', () => {
    const text = sample('Notes.txt');
    expect(Buffer.from(text.toString('utf8'), 'utf8').equals(text)).toBe(true);
    expect(text.toString('utf8')).toMatch(/WebDAV drive/);
    expect(text.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false); // no BOM
  });

  describe.each(OFFICE_FILES)('%s', (file) => {
    const expected = EXPECTED[file]!;

    it('is a valid zip with the expected parts, [Content_Types].xml first', () => {
      const entries = readZip(sample(file));
      const names = entries.map((e) => e.name);
      expect(names[0]).toBe('[Content_Types].xml');
      expect(names).toEqual(expect.arrayContaining(['_rels/.rels', expected.main, relsNameFor(expected.main), ...expected.parts]));
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect(n).not.toMatch(/^\/|\\/);
    });

    it('has only well-formed XML parts', async () => {
      const parts = partsOf(sample(file));
      for (const [name, data] of parts) {
        expect(name).toMatch(/\.(xml|rels)$/);
        const text = data.toString('utf8');
        expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"')).toBe(true);
        await expect(parseStringPromise(text)).resolves.toBeDefined();
      }
    });

    it('declares a content type for every part, and every Override names an existing part', async () => {
      const parts = partsOf(sample(file));
      const { defaults, overrides } = await contentTypes(parts);
      for (const name of parts.keys()) {
        if (name === '[Content_Types].xml') continue;
        // OPC extension: text after the last dot of the last segment (so `_rels/.rels` has extension `rels`).
        const base = path.posix.basename(name);
        const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
        expect(overrides.has(`/${name}`) || defaults.has(ext)).toBe(true);
        // Stricter than OPC requires: every non-.rels part carries a specific Override.
        if (ext !== 'rels') expect([name, overrides.get(`/${name}`)]).toEqual([name, expect.stringMatching(/\+xml$/)]);
      }
      expect(defaults.get('rels')).toBe('application/vnd.openxmlformats-package.relationships+xml');
      for (const partName of overrides.keys()) expect(parts.has(partName.slice(1))).toBe(true);
      expect(overrides.get('/docProps/core.xml')).toBe('application/vnd.openxmlformats-package.core-properties+xml');
      expect(overrides.get('/docProps/app.xml')).toBe('application/vnd.openxmlformats-officedocument.extended-properties+xml');
    });

    it('has the right main part content type, reached through the officeDocument relationship', async () => {
      const parts = partsOf(sample(file));
      const { overrides } = await contentTypes(parts);
      expect(overrides.get(`/${expected.main}`)).toBe(expected.mainType);
      const root = await relationships(parts, '_rels/.rels');
      expect(root.filter((r) => r.type === OFFICE_DOCUMENT).map((r) => r.target)).toEqual([expected.main]);
    });

    it('resolves every relationship target, and every r:id used by a part', async () => {
      const parts = partsOf(sample(file));
      let checked = 0;
      for (const relsName of [...parts.keys()].filter((n) => n.endsWith('.rels'))) {
        const { source } = relsSource(relsName);
        if (source !== '') expect(parts.has(source)).toBe(true); // a .rels for a part that exists
        const list = await relationships(parts, relsName);
        expect(new Set(list.map((r) => r.id)).size).toBe(list.length);
        for (const r of list) {
          expect([relsName, r.target, parts.has(r.target)]).toEqual([relsName, r.target, true]);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(2);
      // Every r:id / r:embed reference in an XML part must be declared in that part's .rels.
      for (const [name, data] of parts) {
        if (name.endsWith('.rels') || name === '[Content_Types].xml') continue;
        const ids = [...data.toString('utf8').matchAll(/\br:(?:id|embed|link)="([^"]+)"/g)].map((m) => m[1]);
        if (ids.length === 0) continue;
        const declared = new Set((await relationships(parts, relsNameFor(name))).map((r) => r.id));
        for (const id of ids) expect([name, id, declared.has(id ?? '')]).toEqual([name, id, true]);
      }
    });

    it('has core properties with fixed W3CDTF dates', async () => {
      const core = partsOf(sample(file)).get('docProps/core.xml')!.toString('utf8');
      expect(core).toMatch(/<dcterms:created xsi:type="dcterms:W3CDTF">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/dcterms:created>/);
      expect(core).toContain('<dc:creator>wopi-bridge</dc:creator>');
    });
  });

  it('Welcome.docx has a heading and the explanation, with the heading style defined', () => {
    const parts = partsOf(sample('Welcome.docx'));
    const doc = parts.get('word/document.xml')!.toString('utf8');
    const styles = parts.get('word/styles.xml')!.toString('utf8');
    expect(doc).toContain('<w:pStyle w:val="Heading1"/>');
    expect(doc).toContain('This file lives on your WebDAV drive; edit it in ONLYOFFICE through wopi-bridge');
    expect((doc.match(/<w:p>/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(doc).toMatch(/<w:sectPr>.*<\/w:sectPr><\/w:body>/);
    expect(styles).toContain('w:styleId="Heading1"');
    expect(styles).toContain('w:styleId="Normal"');
  });

  it('Budget.xlsx has numbers, a SUM formula with a correct cached value and valid shared string indexes', async () => {
    const parts = partsOf(sample('Budget.xlsx'));
    const sheet = parts.get('xl/worksheets/sheet1.xml')!.toString('utf8');
    const sst = parts.get('xl/sharedStrings.xml')!.toString('utf8');
    const workbook = parts.get('xl/workbook.xml')!.toString('utf8');
    expect(workbook).toMatch(/<sheet name="Budget" sheetId="1" r:id="rId1"\/>/);
    const formula = /<c r="B(\d+)"[^>]*><f>SUM\(B(\d+):B(\d+)\)<\/f><v>([\d.]+)<\/v><\/c>/.exec(sheet);
    expect(formula).not.toBeNull();
    const [, , from, to, cached] = formula!;
    let sum = 0;
    for (let row = Number(from); row <= Number(to); row++) {
      const cell = new RegExp(`<c r="B${row}"[^>]*><v>([\\d.]+)</v></c>`).exec(sheet);
      expect(cell).not.toBeNull();
      sum += Number(cell![1]);
    }
    expect(Number(cached)).toBeCloseTo(sum);
    const uniqueCount = Number(/uniqueCount="(\d+)"/.exec(sst)?.[1]);
    expect((sst.match(/<si>/g) ?? []).length).toBe(uniqueCount);
    const indexes = [...sheet.matchAll(/t="s"><v>(\d+)<\/v>/g)].map((m) => Number(m[1]));
    expect(indexes.length).toBeGreaterThan(0);
    for (const i of indexes) expect(i).toBeLessThan(uniqueCount);
    // every style index used exists in cellXfs
    const xfCount = Number(/<cellXfs count="(\d+)"/.exec(parts.get('xl/styles.xml')!.toString('utf8'))?.[1]);
    for (const m of sheet.matchAll(/ s="(\d+)"/g)) expect(Number(m[1])).toBeLessThan(xfCount);
  });

  it('Slides.pptx has one slide with a title and text, and consistent master/layout ids', () => {
    const parts = partsOf(sample('Slides.pptx'));
    const slide = parts.get('ppt/slides/slide1.xml')!.toString('utf8');
    const pres = parts.get('ppt/presentation.xml')!.toString('utf8');
    const master = parts.get('ppt/slideMasters/slideMaster1.xml')!.toString('utf8');
    expect(slide).toContain('<p:ph type="title"/>');
    expect(slide).toContain('<a:t>Welcome to wopi-bridge</a:t>');
    expect(slide).toMatch(/WebDAV drive/);
    expect((pres.match(/<p:sldId /g) ?? []).length).toBe(1);
    const masterId = Number(/<p:sldMasterId id="(\d+)"/.exec(pres)?.[1]);
    const layoutId = Number(/<p:sldLayoutId id="(\d+)"/.exec(master)?.[1]);
    expect(masterId).toBeGreaterThanOrEqual(2147483648);
    expect(layoutId).toBeGreaterThan(masterId);
    const slideId = Number(/<p:sldId id="(\d+)"/.exec(pres)?.[1]);
    expect(slideId).toBeGreaterThanOrEqual(256);
    expect(slideId).toBeLessThan(2147483648);
  });
});

describe('writeSampleFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wopi-samples-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the folder and writes every sample once', async () => {
    const folder = path.join(dir, 'nested', 'Documents');
    expect(await writeSampleFiles(folder)).toEqual(['Welcome.docx', 'Budget.xlsx', 'Slides.pptx', 'Notes.txt']);
    expect((await readdir(folder)).sort()).toEqual(['Budget.xlsx', 'Notes.txt', 'Slides.pptx', 'Welcome.docx']);
    for (const f of sampleFiles()) expect((await readFile(path.join(folder, f.name))).equals(f.data)).toBe(true);
    expect(await writeSampleFiles(folder)).toEqual([]);
  });

  it('never overwrites an existing file', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'Notes.txt'), 'my own notes');
    await writeFile(path.join(dir, 'Budget.xlsx'), 'not a zip');
    expect(await writeSampleFiles(dir)).toEqual(['Welcome.docx', 'Slides.pptx']);
    expect(await readFile(path.join(dir, 'Notes.txt'), 'utf8')).toBe('my own notes');
    expect(await readFile(path.join(dir, 'Budget.xlsx'), 'utf8')).toBe('not a zip');
  });

  it('fails when the folder path is a file', async () => {
    const file = path.join(dir, 'plain');
    await writeFile(file, 'x');
    await expect(writeSampleFiles(file)).rejects.toThrow();
  });
});

// Independent check with Python's zipfile (CRC of every member via testzip()); skipped if python3 is absent.
const hasPython = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0;
(hasPython ? describe : describe.skip)('python zipfile cross-check', () => {
  it('opens every Office sample and testzip() finds no bad member', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wopi-samples-py-'));
    try {
      const files: string[] = [];
      for (const f of sampleFiles().filter((s) => OFFICE_FILES.includes(s.name))) {
        const p = path.join(dir, f.name);
        await writeFile(p, f.data);
        files.push(p);
      }
      const script = [
        'import sys, zipfile, json',
        'out = {}',
        'for f in sys.argv[1:]:',
        '    with zipfile.ZipFile(f) as z:',
        '        out[f] = {"bad": z.testzip(), "names": z.namelist()}',
        'print(json.dumps(out))',
      ].join('\n');
      const r = spawnSync('python3', ['-c', script, ...files], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, { bad: string | null; names: string[] }>;
      for (const p of files) {
        const expected = readZip(await readFile(p)).map((e) => e.name);
        expect(out[p]).toEqual({ bad: null, names: expected });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
