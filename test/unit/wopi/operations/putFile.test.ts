import { conflictName } from '../../../../connector/src/wopi/operations/putFile.js';

const AT = new Date('2026-11-22T07:45:12.345Z');
const ILLEGAL = /[\\/:*?"<>|\u0000-\u001f]/;

describe('conflictName', () => {
  test('keeps the extension and says conflict, date, time and user', () => {
    expect(conflictName('Report.docx', 'alice', AT)).toBe('Report (conflict 2026-11-22 0745 alice).docx');
  });

  test('only the last extension moves to the end', () => {
    expect(conflictName('Budget.2026.final.xlsx', 'bob', AT)).toBe('Budget.2026.final (conflict 2026-11-22 0745 bob).xlsx');
  });

  test('names without an extension, and dot files, get the suffix at the end', () => {
    expect(conflictName('README', 'bob', AT)).toBe('README (conflict 2026-11-22 0745 bob)');
    expect(conflictName('.notes', 'bob', AT)).toBe('.notes (conflict 2026-11-22 0745 bob)');
  });

  test('the time is zero-padded', () => {
    expect(conflictName('a.txt', 'u', new Date('2026-01-02T03:04:05Z'))).toBe('a (conflict 2026-01-02 0304 u).txt');
  });

  test('different minutes give different names; different users give different names', () => {
    const later = new Date(AT.getTime() + 60_000);
    expect(conflictName('a.docx', 'alice', AT)).not.toBe(conflictName('a.docx', 'alice', later));
    expect(conflictName('a.docx', 'alice', AT)).not.toBe(conflictName('a.docx', 'bob', AT));
  });

  test('characters illegal on Windows / Nextcloud in the user name are replaced', () => {
    const name = conflictName('Report.docx', 'CORP\\bob/x:y*z?"<q>|w\u0000\n\t', AT);
    expect(name).not.toMatch(ILLEGAL);
    expect(name.startsWith('Report (conflict 2026-11-22 0745 ')).toBe(true);
    expect(name.endsWith(').docx')).toBe(true);
    expect(name).toContain('CORP_bob_x_y_z_');
  });

  test('a user name made only of illegal characters still gives a legal name', () => {
    expect(conflictName('a.docx', '\\/:*?"<>|', AT)).not.toMatch(ILLEGAL);
  });

  test('spaces, %, &, # and non-Latin characters in names are kept', () => {
    expect(conflictName('R&D #1 50%.docx', 'Zoë 王', AT)).toBe('R&D #1 50% (conflict 2026-11-22 0745 Zoë 王).docx');
  });

  test('the length is bounded however long the name and user are', () => {
    const name = conflictName(`${'n'.repeat(400)}.docx`, 'u'.repeat(400), AT);
    expect(name.length).toBeLessThanOrEqual(255);
    expect(name.endsWith(').docx')).toBe(true);
    expect(name).toContain('(conflict 2026-11-22 0745 ');
  });

  test('the conflict name of a legal (<= 255 UTF-8 bytes) non-Latin name stays <= 255 UTF-8 bytes', () => {
    const original = `${'报'.repeat(80)}.docx`;
    expect(Buffer.byteLength(original)).toBeLessThanOrEqual(255);
    expect(Buffer.byteLength(conflictName(original, 'alice', AT))).toBeLessThanOrEqual(255);
  });

  test('cutting a long user name or file name never splits an emoji (the name stays valid Unicode)', () => {
    const user = `${'a'.repeat(39)}😀`;
    expect(() => encodeURIComponent(conflictName('a.docx', user, AT))).not.toThrow();
    const base = `${'b'.repeat(149)}😀😀`;
    expect(() => encodeURIComponent(conflictName(`${base}.docx`, 'bob', AT))).not.toThrow();
  });
});
