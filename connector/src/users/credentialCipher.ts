/**
 * Encrypts the credentials a user session keeps server-side (WebDAV password, Nextcloud app password) with
 * AES-256-GCM. The key is derived with HKDF-SHA256 from WOPI_TOKEN_SECRET under its own info label, so it is never
 * the key that signs access tokens. The ciphertext is bound to its session id (GCM additional data): a record copied
 * onto another session does not decrypt.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const INFO = 'wopi-bridge user-session credentials v1';
const VERSION = 'v1';

/** A username and password as the drive wants them for Basic auth. */
export interface DriveCredentials {
  username: string;
  password: string;
}

/** AES-256-GCM over JSON, key from HKDF(secret). */
export class CredentialCipher {
  private readonly key: Buffer;

  /**
   * @param secret WOPI_TOKEN_SECRET (the key is derived from it, never used as is)
   * @param purpose HKDF info label: each use (session credentials, shared settings) gets its own key
   */
  constructor(secret: string, purpose: string = INFO) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), purpose, 32));
  }

  /**
   * Encrypts a value for one session.
   * @param plain what to keep (JSON-serialisable)
   * @param aad the session id it belongs to
   * @returns `v1.<iv>.<ciphertext>.<tag>`, base64url parts
   */
  seal(plain: unknown, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /**
   * Decrypts what {@link seal} made for the same session.
   * @returns the value, or null when the text is malformed, was made for another session or with another secret
   */
  open(sealed: string, aad: string): unknown {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(parts[1] as string, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(parts[3] as string, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(parts[2] as string, 'base64url')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as unknown;
    } catch {
      return null;
    }
  }

  /** {@link open} for credentials; null unless the value has a string username and password. */
  openCredentials(sealed: string, aad: string): DriveCredentials | null {
    const v = this.open(sealed, aad) as Partial<DriveCredentials> | null;
    if (v === null || typeof v !== 'object' || typeof v.username !== 'string' || typeof v.password !== 'string') return null;
    return { username: v.username, password: v.password };
  }
}
