import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildZip } from './zipWriter.js';

/**
 * Sample files for the embedded default: on first start the bridge drops a small Word document, spreadsheet,
 * presentation and text file into the user's folder so there is something to open right away.
 *
 * The Office files are minimal but complete Office Open XML packages (ECMA-376): `[Content_Types].xml`,
 * package relationships, core and extended properties, the main part with its relationships and every part
 * the main part needs (styles, settings, shared strings, slide master/layout, theme, …). They are generated
 * deterministically — the same bytes on every call.
 */

/** One sample file: the file name (no directories) and its bytes. */
export interface SampleFile {
  name: string;
  data: Buffer;
}

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n';
/** Fixed timestamp for docProps/core.xml, so the packages are deterministic. */
const CREATED = '2024-01-01T00:00:00Z';

const NS = {
  ct: 'http://schemas.openxmlformats.org/package/2006/content-types',
  pr: 'http://schemas.openxmlformats.org/package/2006/relationships',
  r: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
  w: 'http://schemas.openxmlformats.org/wordprocessingml/2006/main',
  s: 'http://schemas.openxmlformats.org/spreadsheetml/2006/main',
  p: 'http://schemas.openxmlformats.org/presentationml/2006/main',
  a: 'http://schemas.openxmlformats.org/drawingml/2006/main',
} as const;

const REL = {
  officeDocument: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument',
  core: 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties',
  extended: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties',
  styles: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles',
  settings: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings',
  worksheet: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet',
  sharedStrings: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings',
  slideMaster: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster',
  slideLayout: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideLayout',
  slide: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide',
  theme: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme',
  presProps: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/presProps',
  viewProps: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/viewProps',
  tableStyles: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/tableStyles',
} as const;

const CT = {
  rels: 'application/vnd.openxmlformats-package.relationships+xml',
  core: 'application/vnd.openxmlformats-package.core-properties+xml',
  extended: 'application/vnd.openxmlformats-officedocument.extended-properties+xml',
  docxMain: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
  docxStyles: 'application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml',
  docxSettings: 'application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml',
  xlsxMain: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
  xlsxSheet: 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml',
  xlsxStyles: 'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml',
  xlsxStrings: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml',
  pptxMain: 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
  pptxSlide: 'application/vnd.openxmlformats-officedocument.presentationml.slide+xml',
  pptxLayout: 'application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml',
  pptxMaster: 'application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml',
  pptxPresProps: 'application/vnd.openxmlformats-officedocument.presentationml.presProps+xml',
  pptxViewProps: 'application/vnd.openxmlformats-officedocument.presentationml.viewProps+xml',
  pptxTableStyles: 'application/vnd.openxmlformats-officedocument.presentationml.tableStyles+xml',
  theme: 'application/vnd.openxmlformats-officedocument.theme+xml',
} as const;

/** Escapes text for XML element content and attribute values. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

type Rel = readonly [id: string, type: string, target: string];

function rels(list: ReadonlyArray<Rel>): string {
  const items = list.map(([id, type, target]) => `<Relationship Id="${id}" Type="${type}" Target="${esc(target)}"/>`);
  return `${XML_DECL}<Relationships xmlns="${NS.pr}">${items.join('')}</Relationships>`;
}

interface Part {
  /** Part name without the leading `/`, e.g. `word/document.xml`. */
  name: string;
  /** Content type for an Override; `.rels` parts are covered by the `rels` Default. */
  contentType?: string;
  xml: string;
}

/** Zips the parts, with a generated `[Content_Types].xml` first (Default for rels/xml, Override per part). */
function opcPackage(parts: ReadonlyArray<Part>): Buffer {
  const overrides = parts
    .filter((p) => p.contentType !== undefined)
    .map((p) => `<Override PartName="/${esc(p.name)}" ContentType="${p.contentType ?? ''}"/>`);
  const types =
    `${XML_DECL}<Types xmlns="${NS.ct}">` +
    `<Default Extension="rels" ContentType="${CT.rels}"/>` +
    `<Default Extension="xml" ContentType="application/xml"/>` +
    `${overrides.join('')}</Types>`;
  return buildZip([{ name: '[Content_Types].xml', data: types }, ...parts.map((p) => ({ name: p.name, data: p.xml }))]);
}

function coreProps(title: string): Part {
  const xml =
    `${XML_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"` +
    ` xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"` +
    ` xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<dc:title>${esc(title)}</dc:title><dc:creator>wopi-bridge</dc:creator>` +
    `<cp:lastModifiedBy>wopi-bridge</cp:lastModifiedBy><cp:revision>1</cp:revision>` +
    `<dcterms:created xsi:type="dcterms:W3CDTF">${CREATED}</dcterms:created>` +
    `<dcterms:modified xsi:type="dcterms:W3CDTF">${CREATED}</dcterms:modified>` +
    `</cp:coreProperties>`;
  return { name: 'docProps/core.xml', contentType: CT.core, xml };
}

function appProps(extra = ''): Part {
  const xml =
    `${XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"` +
    ` xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">` +
    `<Application>wopi-bridge</Application>${extra}<DocSecurity>0</DocSecurity></Properties>`;
  return { name: 'docProps/app.xml', contentType: CT.extended, xml };
}

function packageRels(main: string): Part {
  return {
    name: '_rels/.rels',
    xml: rels([
      ['rId1', REL.officeDocument, main],
      ['rId2', REL.core, 'docProps/core.xml'],
      ['rId3', REL.extended, 'docProps/app.xml'],
    ]),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Welcome.docx

function docxParagraph(text: string, opts: { style?: string; bold?: boolean } = {}): string {
  const pPr = opts.style ? `<w:pPr><w:pStyle w:val="${opts.style}"/></w:pPr>` : '';
  const rPr = opts.bold ? '<w:rPr><w:b/><w:bCs/></w:rPr>' : '';
  return `<w:p>${pPr}<w:r>${rPr}<w:t xml:space="preserve">${esc(text)}</w:t></w:r></w:p>`;
}

function welcomeDocx(): Buffer {
  const body = [
    docxParagraph('Welcome to wopi-bridge', { style: 'Heading1' }),
    docxParagraph('This file lives on your WebDAV drive; edit it in ONLYOFFICE through wopi-bridge.'),
    docxParagraph(
      'Open any document, spreadsheet or presentation from the drive and it opens in the ONLYOFFICE editor. ' +
        'When you save, the changes are written back to the very same file on the drive.',
    ),
    `<w:p><w:r><w:rPr><w:b/><w:bCs/></w:rPr><w:t xml:space="preserve">Tip: </w:t></w:r>` +
      `<w:r><w:t xml:space="preserve">this is only a sample — edit it, rename it or delete it as you like.</w:t></w:r></w:p>`,
  ].join('');
  const document =
    `${XML_DECL}<w:document xmlns:w="${NS.w}" xmlns:r="${NS.r}"><w:body>${body}` +
    `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>` +
    `<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/>` +
    `<w:cols w:space="708"/></w:sectPr></w:body></w:document>`;
  const styles =
    `${XML_DECL}<w:styles xmlns:w="${NS.w}">` +
    `<w:docDefaults><w:rPrDefault><w:rPr>` +
    `<w:rFonts w:ascii="Calibri" w:eastAsia="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/>` +
    `<w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="en-US" w:eastAsia="en-US" w:bidi="ar-SA"/>` +
    `</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="259" w:lineRule="auto"/></w:pPr>` +
    `</w:pPrDefault></w:docDefaults>` +
    `<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
    `<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/>` +
    `<w:next w:val="Normal"/><w:uiPriority w:val="9"/><w:qFormat/>` +
    `<w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="240" w:after="120"/><w:outlineLvl w:val="0"/></w:pPr>` +
    `<w:rPr><w:b/><w:bCs/><w:color w:val="2F5496"/><w:sz w:val="32"/><w:szCs w:val="32"/></w:rPr></w:style>` +
    `<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/>` +
    `<w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/></w:style>` +
    `</w:styles>`;
  const settings =
    `${XML_DECL}<w:settings xmlns:w="${NS.w}"><w:defaultTabStop w:val="708"/>` +
    `<w:characterSpacingControl w:val="doNotCompress"/>` +
    `<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>` +
    `</w:settings>`;
  return opcPackage([
    packageRels('word/document.xml'),
    { name: 'word/document.xml', contentType: CT.docxMain, xml: document },
    {
      name: 'word/_rels/document.xml.rels',
      xml: rels([
        ['rId1', REL.styles, 'styles.xml'],
        ['rId2', REL.settings, 'settings.xml'],
      ]),
    },
    { name: 'word/styles.xml', contentType: CT.docxStyles, xml: styles },
    { name: 'word/settings.xml', contentType: CT.docxSettings, xml: settings },
    coreProps('Welcome'),
    appProps(),
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Budget.xlsx

function budgetXlsx(): Buffer {
  const strings = ['Item', 'Amount', 'Hosting', 'Storage', 'Licences', 'Total'];
  const s = (text: string): number => strings.indexOf(text);
  const items: Array<[string, number]> = [
    ['Hosting', 120],
    ['Storage', 45.5],
    ['Licences', 300],
  ];
  const total = items.reduce((n, [, v]) => n + v, 0);
  // Cell styles (cellXfs index): 0 default, 1 bold, 2 "#,##0.00", 3 bold "#,##0.00".
  const rows = [
    `<row r="1"><c r="A1" s="1" t="s"><v>${s('Item')}</v></c><c r="B1" s="1" t="s"><v>${s('Amount')}</v></c></row>`,
    ...items.map(
      ([name, value], i) =>
        `<row r="${i + 2}"><c r="A${i + 2}" t="s"><v>${s(name)}</v></c><c r="B${i + 2}" s="2"><v>${value}</v></c></row>`,
    ),
    `<row r="${items.length + 2}"><c r="A${items.length + 2}" s="1" t="s"><v>${s('Total')}</v></c>` +
      `<c r="B${items.length + 2}" s="3"><f>SUM(B2:B${items.length + 1})</f><v>${total}</v></c></row>`,
  ];
  const sheet =
    `${XML_DECL}<worksheet xmlns="${NS.s}" xmlns:r="${NS.r}">` +
    `<dimension ref="A1:B${items.length + 2}"/>` +
    `<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>` +
    `<sheetFormatPr defaultRowHeight="15"/>` +
    `<cols><col min="1" max="1" width="24" customWidth="1"/><col min="2" max="2" width="14" customWidth="1"/></cols>` +
    `<sheetData>${rows.join('')}</sheetData>` +
    `<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>` +
    `</worksheet>`;
  const font = (bold: boolean): string =>
    `<font>${bold ? '<b/>' : ''}<sz val="11"/><name val="Calibri"/><family val="2"/></font>`;
  const styles =
    `${XML_DECL}<styleSheet xmlns="${NS.s}">` +
    `<fonts count="2">${font(false)}${font(true)}</fonts>` +
    `<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
    `<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
    `<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
    `<cellXfs count="4">` +
    `<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
    `<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
    `<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
    `<xf numFmtId="4" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>` +
    `</cellXfs>` +
    `<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
    `<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>` +
    `</styleSheet>`;
  const sst =
    `${XML_DECL}<sst xmlns="${NS.s}" count="${strings.length}" uniqueCount="${strings.length}">` +
    `${strings.map((t) => `<si><t>${esc(t)}</t></si>`).join('')}</sst>`;
  const workbook =
    `${XML_DECL}<workbook xmlns="${NS.s}" xmlns:r="${NS.r}">` +
    `<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="16000" windowHeight="9000"/></bookViews>` +
    `<sheets><sheet name="Budget" sheetId="1" r:id="rId1"/></sheets>` +
    `<calcPr calcId="191029" fullCalcOnLoad="1"/>` +
    `</workbook>`;
  return opcPackage([
    packageRels('xl/workbook.xml'),
    { name: 'xl/workbook.xml', contentType: CT.xlsxMain, xml: workbook },
    {
      name: 'xl/_rels/workbook.xml.rels',
      xml: rels([
        ['rId1', REL.worksheet, 'worksheets/sheet1.xml'],
        ['rId2', REL.styles, 'styles.xml'],
        ['rId3', REL.sharedStrings, 'sharedStrings.xml'],
      ]),
    },
    { name: 'xl/worksheets/sheet1.xml', contentType: CT.xlsxSheet, xml: sheet },
    { name: 'xl/styles.xml', contentType: CT.xlsxStyles, xml: styles },
    { name: 'xl/sharedStrings.xml', contentType: CT.xlsxStrings, xml: sst },
    coreProps('Budget'),
    appProps(),
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Slides.pptx

const PML_NS = `xmlns:a="${NS.a}" xmlns:r="${NS.r}" xmlns:p="${NS.p}"`;
const GROUP_HEADER =
  '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>' +
  '<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>';

interface ShapeSpec {
  id: number;
  name: string;
  /** The `<p:ph .../>` element. */
  ph: string;
  /** Contents of `<p:spPr>`. */
  spPr?: string;
  bodyPr?: string;
  paragraphs: string[];
}

function pmlShape(spec: ShapeSpec): string {
  const paras = spec.paragraphs.length
    ? spec.paragraphs
        .map((t) => `<a:p><a:r><a:rPr lang="en-US" dirty="0"/><a:t>${esc(t)}</a:t></a:r></a:p>`)
        .join('')
    : '<a:p><a:endParaRPr lang="en-US"/></a:p>';
  return (
    `<p:sp><p:nvSpPr><p:cNvPr id="${spec.id}" name="${esc(spec.name)}"/>` +
    `<p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr>${spec.ph}</p:nvPr></p:nvSpPr>` +
    `<p:spPr>${spec.spPr ?? ''}</p:spPr>` +
    `<p:txBody>${spec.bodyPr ?? '<a:bodyPr/>'}<a:lstStyle/>${paras}</p:txBody></p:sp>`
  );
}

function xfrm(x: number, y: number, cx: number, cy: number): string {
  return `<a:xfrm><a:off x="${x}" y="${y}"/><a:ext cx="${cx}" cy="${cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>`;
}

function levelStyle(level: number, attrs: string, inner: string, size: number, font: 'mj' | 'mn'): string {
  return (
    `<a:lvl${level}pPr ${attrs} defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">${inner}` +
    `<a:defRPr sz="${size}" kern="1200"><a:solidFill><a:schemeClr val="tx1"/></a:solidFill>` +
    `<a:latin typeface="+${font}-lt"/><a:ea typeface="+${font}-ea"/><a:cs typeface="+${font}-cs"/></a:defRPr>` +
    `</a:lvl${level}pPr>`
  );
}

function theme(): string {
  const phFill = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>';
  const line = (w: number): string =>
    `<a:ln w="${w}" cap="flat" cmpd="sng" algn="ctr">${phFill}<a:prstDash val="solid"/><a:miter lim="800000"/></a:ln>`;
  const srgb = (tag: string, hex: string): string => `<a:${tag}><a:srgbClr val="${hex}"/></a:${tag}>`;
  return (
    `${XML_DECL}<a:theme xmlns:a="${NS.a}" name="Office Theme"><a:themeElements>` +
    `<a:clrScheme name="Office">` +
    `<a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>` +
    srgb('dk2', '44546A') +
    srgb('lt2', 'E7E6E6') +
    srgb('accent1', '4472C4') +
    srgb('accent2', 'ED7D31') +
    srgb('accent3', 'A5A5A5') +
    srgb('accent4', 'FFC000') +
    srgb('accent5', '5B9BD5') +
    srgb('accent6', '70AD47') +
    srgb('hlink', '0563C1') +
    srgb('folHlink', '954F72') +
    `</a:clrScheme>` +
    `<a:fontScheme name="Office">` +
    `<a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>` +
    `<a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>` +
    `</a:fontScheme>` +
    `<a:fmtScheme name="Office">` +
    `<a:fillStyleLst>${phFill}${phFill}${phFill}</a:fillStyleLst>` +
    `<a:lnStyleLst>${line(6350)}${line(12700)}${line(19050)}</a:lnStyleLst>` +
    `<a:effectStyleLst>${'<a:effectStyle><a:effectLst/></a:effectStyle>'.repeat(3)}</a:effectStyleLst>` +
    `<a:bgFillStyleLst>${phFill}${phFill}${phFill}</a:bgFillStyleLst>` +
    `</a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>`
  );
}

function slidesPptx(): Buffer {
  const slideW = 12192000; // 16:9
  const slideH = 6858000;
  const titleBody = '<a:bodyPr vert="horz" lIns="91440" tIns="45720" rIns="91440" bIns="45720" rtlCol="0" anchor="ctr"><a:normAutofit/></a:bodyPr>';
  const textBody = '<a:bodyPr vert="horz" lIns="91440" tIns="45720" rIns="91440" bIns="45720" rtlCol="0"><a:normAutofit/></a:bodyPr>';

  const presentation =
    `${XML_DECL}<p:presentation ${PML_NS} saveSubsetFonts="1">` +
    `<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>` +
    `<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>` +
    `<p:sldSz cx="${slideW}" cy="${slideH}"/><p:notesSz cx="6858000" cy="9144000"/>` +
    `<p:defaultTextStyle>` +
    `<a:defPPr><a:defRPr lang="en-US"/></a:defPPr>` +
    levelStyle(1, 'marL="0" algn="l"', '', 1800, 'mn') +
    `</p:defaultTextStyle>` +
    `</p:presentation>`;

  const master =
    `${XML_DECL}<p:sldMaster ${PML_NS}><p:cSld>` +
    `<p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>` +
    `<p:spTree>${GROUP_HEADER}` +
    pmlShape({
      id: 2,
      name: 'Title Placeholder 1',
      ph: '<p:ph type="title"/>',
      spPr: xfrm(838200, 365125, 10515600, 1325563),
      bodyPr: titleBody,
      paragraphs: ['Click to edit Master title style'],
    }) +
    pmlShape({
      id: 3,
      name: 'Text Placeholder 2',
      ph: '<p:ph type="body" idx="1"/>',
      spPr: xfrm(838200, 1825625, 10515600, 4351338),
      bodyPr: textBody,
      paragraphs: ['Click to edit Master text styles'],
    }) +
    `</p:spTree></p:cSld>` +
    `<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3"` +
    ` accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>` +
    `<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst>` +
    `<p:txStyles>` +
    `<p:titleStyle>${levelStyle(
      1,
      'algn="l"',
      '<a:lnSpc><a:spcPct val="90000"/></a:lnSpc><a:spcBef><a:spcPct val="0"/></a:spcBef><a:buNone/>',
      4400,
      'mj',
    )}</p:titleStyle>` +
    `<p:bodyStyle>` +
    levelStyle(
      1,
      'marL="228600" indent="-228600" algn="l"',
      '<a:lnSpc><a:spcPct val="90000"/></a:lnSpc><a:spcBef><a:spcPts val="1000"/></a:spcBef>' +
        '<a:buFont typeface="Arial"/><a:buChar char="•"/>',
      2800,
      'mn',
    ) +
    levelStyle(
      2,
      'marL="685800" indent="-228600" algn="l"',
      '<a:lnSpc><a:spcPct val="90000"/></a:lnSpc><a:spcBef><a:spcPts val="500"/></a:spcBef>' +
        '<a:buFont typeface="Arial"/><a:buChar char="•"/>',
      2400,
      'mn',
    ) +
    `</p:bodyStyle>` +
    `<p:otherStyle><a:defPPr><a:defRPr lang="en-US"/></a:defPPr>${levelStyle(1, 'marL="0" algn="l"', '', 1800, 'mn')}</p:otherStyle>` +
    `</p:txStyles></p:sldMaster>`;

  const layout =
    `${XML_DECL}<p:sldLayout ${PML_NS} type="obj" preserve="1"><p:cSld name="Title and Content">` +
    `<p:spTree>${GROUP_HEADER}` +
    pmlShape({ id: 2, name: 'Title 1', ph: '<p:ph type="title"/>', paragraphs: [] }) +
    pmlShape({ id: 3, name: 'Content Placeholder 2', ph: '<p:ph idx="1"/>', paragraphs: [] }) +
    `</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>`;

  const slide =
    `${XML_DECL}<p:sld ${PML_NS}><p:cSld><p:spTree>${GROUP_HEADER}` +
    pmlShape({ id: 2, name: 'Title 1', ph: '<p:ph type="title"/>', paragraphs: ['Welcome to wopi-bridge'] }) +
    pmlShape({
      id: 3,
      name: 'Content Placeholder 2',
      ph: '<p:ph idx="1"/>',
      paragraphs: [
        'This presentation lives on your WebDAV drive.',
        'Edit it in ONLYOFFICE through wopi-bridge.',
        'Saving writes your changes back to the same file.',
      ],
    }) +
    `</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`;

  const presProps = `${XML_DECL}<p:presentationPr ${PML_NS}/>`;
  const viewProps =
    `${XML_DECL}<p:viewPr ${PML_NS}><p:normalViewPr><p:restoredLeft sz="15620"/><p:restoredTop sz="94660"/></p:normalViewPr>` +
    `<p:gridSpacing cx="76200" cy="76200"/></p:viewPr>`;
  const tableStyles = `${XML_DECL}<a:tblStyleLst xmlns:a="${NS.a}" def="{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}"/>`;

  return opcPackage([
    packageRels('ppt/presentation.xml'),
    { name: 'ppt/presentation.xml', contentType: CT.pptxMain, xml: presentation },
    {
      name: 'ppt/_rels/presentation.xml.rels',
      xml: rels([
        ['rId1', REL.slideMaster, 'slideMasters/slideMaster1.xml'],
        ['rId2', REL.slide, 'slides/slide1.xml'],
        ['rId3', REL.presProps, 'presProps.xml'],
        ['rId4', REL.viewProps, 'viewProps.xml'],
        ['rId5', REL.theme, 'theme/theme1.xml'],
        ['rId6', REL.tableStyles, 'tableStyles.xml'],
      ]),
    },
    { name: 'ppt/slideMasters/slideMaster1.xml', contentType: CT.pptxMaster, xml: master },
    {
      name: 'ppt/slideMasters/_rels/slideMaster1.xml.rels',
      xml: rels([
        ['rId1', REL.slideLayout, '../slideLayouts/slideLayout1.xml'],
        ['rId2', REL.theme, '../theme/theme1.xml'],
      ]),
    },
    { name: 'ppt/slideLayouts/slideLayout1.xml', contentType: CT.pptxLayout, xml: layout },
    {
      name: 'ppt/slideLayouts/_rels/slideLayout1.xml.rels',
      xml: rels([['rId1', REL.slideMaster, '../slideMasters/slideMaster1.xml']]),
    },
    { name: 'ppt/slides/slide1.xml', contentType: CT.pptxSlide, xml: slide },
    {
      name: 'ppt/slides/_rels/slide1.xml.rels',
      xml: rels([['rId1', REL.slideLayout, '../slideLayouts/slideLayout1.xml']]),
    },
    { name: 'ppt/theme/theme1.xml', contentType: CT.theme, xml: theme() },
    { name: 'ppt/presProps.xml', contentType: CT.pptxPresProps, xml: presProps },
    { name: 'ppt/viewProps.xml', contentType: CT.pptxViewProps, xml: viewProps },
    { name: 'ppt/tableStyles.xml', contentType: CT.pptxTableStyles, xml: tableStyles },
    coreProps('Slides'),
    appProps('<PresentationFormat>Widescreen</PresentationFormat><Slides>1</Slides>'),
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Notes.txt

const NOTES_TXT = [
  'Notes',
  '=====',
  '',
  'This is a plain text file on your WebDAV drive.',
  'Documents (.docx), spreadsheets (.xlsx) and presentations (.pptx) open in ONLYOFFICE through wopi-bridge;',
  'plain text files like this one are simply stored on the drive.',
  '',
  'These sample files are created on first start. Edit, rename or delete them as you like — an existing',
  'file is never overwritten with the sample.',
  '',
].join('\n');

/**
 * The sample files, in a fixed order: `Welcome.docx`, `Budget.xlsx`, `Slides.pptx`, `Notes.txt`.
 * Fresh buffers on every call; the content is deterministic.
 */
export function sampleFiles(): SampleFile[] {
  return [
    { name: 'Welcome.docx', data: welcomeDocx() },
    { name: 'Budget.xlsx', data: budgetXlsx() },
    { name: 'Slides.pptx', data: slidesPptx() },
    { name: 'Notes.txt', data: Buffer.from(NOTES_TXT, 'utf8') },
  ];
}

/**
 * Writes the sample files into `folder` (created with parents if missing). A file that already exists is
 * left untouched — it is opened with the exclusive-create flag, so even a file appearing concurrently is never
 * overwritten.
 *
 * @returns the names of the files actually written, in {@link sampleFiles} order.
 */
export async function writeSampleFiles(folder: string): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const written: string[] = [];
  for (const file of sampleFiles()) {
    try {
      await writeFile(path.join(folder, file.name), file.data, { flag: 'wx' });
      written.push(file.name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return written;
}
