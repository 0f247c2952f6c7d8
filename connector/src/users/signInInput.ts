/**
 * Checks what a person typed into the sign-in form before anything is asked of the drive: refused input is a
 * {@link SignInError} `bad_input` with a message for the person, and never reaches the drive or the store.
 */
import { SignInError } from './types.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Longest name accepted (a person's name in service mode, a login name otherwise). */
export const MAX_NAME_LENGTH = 64;
/** Longest password accepted (app passwords are 72 characters). */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * The name, trimmed.
 * @param forBasicAuth also refuse ':' (it cannot be part of a Basic-auth user name)
 * @throws SignInError bad_input
 */
export function validName(raw: unknown, forBasicAuth: boolean): string {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if (name === '') throw new SignInError('bad_input', 'Enter your user name');
  if (name.length > MAX_NAME_LENGTH) throw new SignInError('bad_input', `The user name is too long (at most ${MAX_NAME_LENGTH} characters)`);
  if (CONTROL.test(name)) throw new SignInError('bad_input', 'The user name contains characters that cannot be used');
  if (forBasicAuth && name.includes(':')) throw new SignInError('bad_input', 'The user name cannot contain ":"');
  return name;
}

/**
 * The password, as typed (never trimmed: spaces may be part of it).
 * @param required whether an empty one is refused
 * @throws SignInError bad_input
 */
export function validPassword(raw: unknown, required: boolean): string {
  const password = typeof raw === 'string' ? raw : '';
  if (password === '' && required) throw new SignInError('bad_input', 'Enter your password');
  if (password.length > MAX_PASSWORD_LENGTH) throw new SignInError('bad_input', `The password is too long (at most ${MAX_PASSWORD_LENGTH} characters)`);
  if (/[\u0000\r\n]/.test(password)) throw new SignInError('bad_input', 'The password contains characters that cannot be used');
  return password;
}
