import zlib from 'node:zlib';

/**
 * A minimal, dependency-free ZIP writer (PKWARE APPNOTE 6.3, no ZIP64, no encryption, no data descriptors).
 * Good enough for the small Office Open XML packages the bridge ships as samples: every entry is
 * deflated, every entry carries the same fixed DOS timestamp so the output is byte-for-byte deterministic.
 */

/** One file to put into the archive. A `string` is encoded as UTF-8. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading `/`, no `.`/`..` segments, e.g. `word/document.xml`. */
  name: string;
  data: Buffer | string;
}

/** DOS date of 1980-01-01 (the earliest DOS date): ((1980 - 1980) << 9) | (1 << 5) | 1. */
export const ZIP_DOS_DATE = 0x0021;
/** DOS time 00:00:00. */
export const ZIP_DOS_TIME = 0x0000;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const VERSION = 20; // 2.0: deflate; "made by" host 0 (MS-DOS) in the upper byte
const METHOD_DEFLATE = 8;
const FLAG_UTF8 = 0x0800; // general purpose bit 11 (EFS): name is UTF-8
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;

let crcTable: Uint32Array | undefined;

/** Table-driven CRC-32 (IEEE 802.3, reflected 0xEDB88320), used only when `zlib.crc32` is missing. */
function tableCrc32(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32 of `data` as stored in ZIP headers. Uses `zlib.crc32` (Node >= 20.15 / 22.2) and falls back to a
 * table implementation on runtimes without it.
 */
export function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  return typeof native === 'function' ? native(data) >>> 0 : tableCrc32(data);
}

function checkName(name: string): Buffer {
  if (name === '') throw new Error('zip entry name must not be empty');
  if (name.startsWith('/') || name.includes('\\') || name.includes('\0')) throw new Error(`invalid zip entry name: ${name}`);
  if (name.split('/').some((seg) => seg === '.' || seg === '..')) throw new Error(`invalid zip entry name: ${name}`);
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > MAX_U16) throw new Error(`zip entry name too long: ${name.slice(0, 40)}…`);
  return bytes;
}

/**
 * Builds a ZIP archive in memory.
 *
 * Layout: for each entry a local file header followed by the raw-deflated data, then the central directory
 * and the end-of-central-directory record. Entries keep the given order (OOXML consumers do not care, but
 * putting `[Content_Types].xml` first is conventional). Names are stored as UTF-8; the UTF-8 flag
 * (general purpose bit 11) is set for names that are not plain ASCII — plain ASCII names are identical in
 * CP437 and UTF-8, and leaving the flag off for them maximises compatibility with old readers.
 * All entries get the fixed timestamp {@link ZIP_DOS_DATE}/{@link ZIP_DOS_TIME}, so equal input gives
 * byte-identical output.
 *
 * @throws Error on an empty, absolute, `..`-containing or duplicate name, or when the archive would need
 * ZIP64 (more than 65535 entries or 4 GiB).
 */
export function buildZip(entries: ReadonlyArray<ZipEntry>): Buffer {
  if (entries.length > MAX_U16) throw new Error('too many zip entries (ZIP64 is not supported)');
  const seen = new Set<string>();
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;

  for (const entry of entries) {
    const nameBytes = checkName(entry.name);
    if (seen.has(entry.name)) throw new Error(`duplicate zip entry name: ${entry.name}`);
    seen.add(entry.name);

    const raw = typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : entry.data;
    const packed = zlib.deflateRawSync(raw, { level: 9 });
    const crc = crc32(raw);
    const flags = /^[\x20-\x7e]*$/.test(entry.name) ? 0 : FLAG_UTF8;
    if (raw.length > MAX_U32 || packed.length > MAX_U32 || offset > MAX_U32) {
      throw new Error('zip archive too large (ZIP64 is not supported)');
    }

    const local = Buffer.alloc(30);
    local.writeUInt32LE(SIG_LOCAL, 0);
    local.writeUInt16LE(VERSION, 4); // version needed to extract
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(METHOD_DEFLATE, 8);
    local.writeUInt16LE(ZIP_DOS_TIME, 10);
    local.writeUInt16LE(ZIP_DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28); // extra field length

    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(SIG_CENTRAL, 0);
    cd.writeUInt16LE(VERSION, 4); // version made by (MS-DOS host, 2.0)
    cd.writeUInt16LE(VERSION, 6); // version needed to extract
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(METHOD_DEFLATE, 10);
    cd.writeUInt16LE(ZIP_DOS_TIME, 12);
    cd.writeUInt16LE(ZIP_DOS_DATE, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(packed.length, 20);
    cd.writeUInt32LE(raw.length, 24);
    cd.writeUInt16LE(nameBytes.length, 28);
    cd.writeUInt16LE(0, 30); // extra field length
    cd.writeUInt16LE(0, 32); // file comment length
    cd.writeUInt16LE(0, 34); // disk number start
    cd.writeUInt16LE(0, 36); // internal attributes
    cd.writeUInt32LE(0, 38); // external attributes
    cd.writeUInt32LE(offset, 42); // offset of local header

    chunks.push(local, nameBytes, packed);
    central.push(cd, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }

  const cdSize = central.reduce((n, b) => n + b.length, 0);
  if (offset > MAX_U32 || offset + cdSize > MAX_U32) throw new Error('zip archive too large (ZIP64 is not supported)');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(SIG_END, 0);
  end.writeUInt16LE(0, 4); // number of this disk
  end.writeUInt16LE(0, 6); // disk where the central directory starts
  end.writeUInt16LE(entries.length, 8); // entries on this disk
  end.writeUInt16LE(entries.length, 10); // total entries
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16); // central directory offset
  end.writeUInt16LE(0, 20); // comment length

  return Buffer.concat([...chunks, ...central, end]);
}
