/**
 * The pure parts of the encryption check, on the real captures: what a download answer means
 * (`classifyDownload`), what the app-config values of each state mean (`interpretNextcloudEncryption`), and
 * status.php in both the Nextcloud and the ownCloud form.
 */
import { classifyDownload, interpretNextcloudEncryption, type NextcloudEncryptionValues } from '../../../connector/src/checks/checkStorageEncryption.js';
import type { DownloadAnswer } from '../../../connector/src/checks/drive/encryptionProbe.js';
import { parseStatusPhp } from '../../../connector/src/checks/drive/statusPhp.js';
import { appConfigValue, appList } from '../../../connector/src/checks/drive/ocs.js';
import { readHttpFixture } from '../../helpers/readHttpFixture.js';

function answerOf(name: string): DownloadAnswer {
  const fx = readHttpFixture(name);
  const headers: Record<string, string> = {};
  for (const [k, v] of fx.response.headers) headers[k.toLowerCase()] = v;
  const cl = headers['content-length'];
  return {
    status: fx.response.status,
    headers,
    body: fx.response.body,
    bodyComplete: cl === undefined || Number(cl) === fx.response.body.length,
  };
}

/** The ownCloud answer quoted in the seed write-up (002): 403 Forbidden with the same message (lower-case "id"). */
const OWNCLOUD_SEED_403: DownloadAnswer = {
  status: 403,
  headers: { 'content-type': 'application/xml; charset=utf-8' },
  body: Buffer.from(
    '<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n' +
      '  <s:exception>Sabre\\DAV\\Exception\\Forbidden</s:exception>\n' +
      '  <s:message>Encryption not ready: Module with id: OC_DEFAULT_MODULE does not exist.</s:message>\n</d:error>\n',
  ),
  bodyComplete: true,
};

describe('classifyDownload on the captured answers', () => {
  test.each([
    ['d-get-encrypted-file-app-disabled', 503, 'Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist.'],
    ['d-get-unencrypted-file-app-disabled', 503, 'Encryption not ready: Default encryption module not loaded'],
    ['d-get-admin-skeleton-file-app-disabled', 503, 'Encryption not ready: Default encryption module not loaded'],
    ['d2-masterkey-get-encrypted-file-app-disabled', 503, 'Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist.'],
    ['d2-masterkey-get-encrypted-file-app-disabled-legacy-webdav', 503, 'Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist.'],
    ['d-put-new-file-app-disabled', 503, 'Encryption not ready: Default encryption module not loaded'],
    ['d-put-overwrite-encrypted-app-disabled', 500, 'Default encryption module not loaded'],
  ])('%s → module missing (HTTP %d)', (name, status, message) => {
    expect(classifyDownload(answerOf(name))).toMatchObject({ kind: 'module_missing', status, message });
  });

  test('the ownCloud seed answer (403 Forbidden, "Module with id:") → module missing', () => {
    expect(classifyDownload(OWNCLOUD_SEED_403)).toMatchObject({ kind: 'module_missing', status: 403, exception: 'Sabre\\DAV\\Exception\\Forbidden' });
  });

  test.each([
    ['b-get-docx-as-alice-encrypted', 14],
    ['b-get-after-overwrite-no-cookies-500', 28],
    ['b-get-encrypted-legacy-webdav', 14],
    ['b-get-encrypted-with-app-password', 14],
    ['b-get-legacy-uploaded-via-new-dav-endpoint', 28],
    ['b-cookiesession-2-get-still-500', 14],
  ])('%s → per-user-key failure (500, body cut to %d bytes)', (name, len) => {
    expect(classifyDownload(answerOf(name))).toMatchObject({ kind: 'per_user_keys', status: 500, contentLength: len, bodyBytes: len, message: null });
  });

  test('a 500 whose body is the full DecryptionFailedException (a file longer than the error XML) → per-user keys too', () => {
    const body = Buffer.from(
      '<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n  <s:exception>OCA\\Encryption\\Exceptions\\DecryptionFailedException</s:exception>\n  <s:message>Cannot decrypt this file, probably this is a shared file. Please ask the file owner to reshare the file with you.</s:message>\n</d:error>\n',
    );
    expect(classifyDownload({ status: 500, headers: { 'content-type': 'application/xml; charset=utf-8' }, body, bodyComplete: false })).toMatchObject({ kind: 'per_user_keys' });
  });

  test.each([
    'a-get-docx',
    'b-get-preexisting-unencrypted-file',
    'b-cookiesession-3-get-now-200',
    'c-get-docx-as-alice-masterkey',
    'c-get-admin-skeleton-file-masterkey',
    'd2-masterkey-get-after-reenable',
  ])('%s → ok', (name) => {
    expect(classifyDownload(answerOf(name))).toMatchObject({ kind: 'ok' });
  });

  test('a 2xx whose body stopped early → incomplete', () => {
    expect(classifyDownload({ status: 200, headers: { 'content-length': '28' }, body: Buffer.from('hello'), bodyComplete: false })).toEqual({
      kind: 'incomplete',
      status: 200,
      bytes: 5,
      contentLength: 28,
    });
  });

  test('other answers are not mistaken for encryption', () => {
    expect(classifyDownload(answerOf('a-get-wrong-password-401'))).toMatchObject({ kind: 'unauthorized' });
    expect(classifyDownload(answerOf('a-get-deleted-404'))).toMatchObject({ kind: 'not_found' });
    expect(classifyDownload(answerOf('a-get-other-users-tree-as-alice'))).toMatchObject({ kind: 'not_found' });
    expect(classifyDownload(answerOf('a-put-over-quota-507'))).toMatchObject({ kind: 'error', status: 507 });
    expect(classifyDownload(answerOf('a-put-while-being-read-423'))).toMatchObject({ kind: 'error', status: 423 });
    // A plain 500 without the per-user-key signature (no file headers, a complete Sabre body).
    expect(
      classifyDownload({
        status: 500,
        headers: { 'content-type': 'application/xml; charset=utf-8' },
        body: Buffer.from('<?xml version="1.0"?><d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:exception>Exception</s:exception><s:message>boom</s:message></d:error>'),
        bodyComplete: true,
      }),
    ).toMatchObject({ kind: 'error', status: 500, message: 'boom' });
  });
});

/** The values a check reads in a state, straight from that state's captures (uncaptured keys as the README says). */
function valuesFromCaptures(prefix: string, extra: Partial<NextcloudEncryptionValues> = {}): NextcloudEncryptionValues {
  const read = (key: string): string | null => {
    try {
      const fx = readHttpFixture(`${prefix}-ocs-appconfig-${key}-as-admin`);
      return appConfigValue((JSON.parse(fx.response.body.toString('utf8')) as { ocs: { data: unknown } }).ocs.data);
    } catch {
      return null;
    }
  };
  let enabledApps: string[] | null = null;
  try {
    const fx = readHttpFixture(`${prefix}-ocs-v1-apps-enabled-as-admin`);
    enabledApps = appList((JSON.parse(fx.response.body.toString('utf8')) as { ocs: { data: unknown } }).ocs.data);
  } catch {
    enabledApps = null;
  }
  return {
    'core/encryption_enabled': read('core-encryption_enabled'),
    'core/default_encryption_module': read('core-default_encryption_module'),
    'encryption/useMasterKey': read('encryption-useMasterKey'),
    'encryption/enabled': read('encryption-enabled'),
    enabledApps,
    ...extra,
  };
}

describe('interpretNextcloudEncryption on each state\'s captured values', () => {
  test('a- → off', () => {
    const v = valuesFromCaptures('a');
    expect(v['core/encryption_enabled']).toBe('');
    expect(v.enabledApps).not.toContain('encryption');
    expect(interpretNextcloudEncryption(v)).toBe('off');
  });

  test('b0- (app enabled, encryption not switched on) → off_app_enabled', () => {
    const v = valuesFromCaptures('b0-appenabled-encryption-off', { enabledApps: valuesFromCaptures('b').enabledApps });
    expect(v['core/default_encryption_module']).toBe('OC_DEFAULT_MODULE');
    expect(interpretNextcloudEncryption(v)).toBe('off_app_enabled');
  });

  test('b- (useMasterKey "0") → per_user_keys', () => {
    const v = valuesFromCaptures('b');
    expect(v['encryption/useMasterKey']).toBe('0');
    expect(v.enabledApps).toContain('encryption');
    expect(interpretNextcloudEncryption(v)).toBe('per_user_keys');
  });

  test('c- (useMasterKey "" = the default master key) → master_key', () => {
    const v = valuesFromCaptures('c');
    expect(v['encryption/useMasterKey']).toBe('');
    expect(v['encryption/enabled']).toBe('yes');
    expect(interpretNextcloudEncryption(v)).toBe('master_key');
  });

  test('d- (core yes, app disabled) → module_missing, from the apps list and from encryption/enabled alone', () => {
    const v = valuesFromCaptures('d');
    expect(v['core/encryption_enabled']).toBe('yes');
    expect(v['encryption/enabled']).toBe('no');
    expect(v.enabledApps).not.toContain('encryption');
    expect(interpretNextcloudEncryption(v)).toBe('module_missing');
    expect(interpretNextcloudEncryption({ ...v, enabledApps: null })).toBe('module_missing');
  });

  test('d2- (master-key instance, app disabled) → module_missing', () => {
    const v = valuesFromCaptures('d2-masterkey', { enabledApps: valuesFromCaptures('d').enabledApps });
    expect(interpretNextcloudEncryption(v)).toBe('module_missing');
  });

  test('on, app enabled, no default module → no_default_module', () => {
    expect(interpretNextcloudEncryption({ ...valuesFromCaptures('c'), 'core/default_encryption_module': '' })).toBe('no_default_module');
  });
});

describe('status.php', () => {
  test('Nextcloud (JSON booleans), from the capture', () => {
    const s = parseStatusPhp(readHttpFixture('a-status-php').response.body.toString('utf8'));
    expect(s).toEqual({
      flavour: 'nextcloud',
      installed: true,
      maintenance: false,
      needsDbUpgrade: false,
      version: '32.0.1.2',
      versionString: '32.0.1',
      productName: 'Nextcloud',
      edition: null,
    });
  });

  test('ownCloud 10 (string booleans)', () => {
    const s = parseStatusPhp('{"installed":"true","maintenance":"true","needsDbUpgrade":"false","version":"10.15.0.2","versionstring":"10.15.0","edition":"Community","productname":"ownCloud","product":"ownCloud"}');
    expect(s).toMatchObject({ flavour: 'owncloud', installed: true, maintenance: true, needsDbUpgrade: false, versionString: '10.15.0' });
  });

  test('not status.php', () => {
    expect(parseStatusPhp('<html></html>')).toBeNull();
    expect(parseStatusPhp('{"foo":1}')).toBeNull();
    expect(parseStatusPhp('[]')).toBeNull();
  });
});
