import { validName, validPassword } from '../../../connector/src/users/signInInput.js';
import { SignInError } from '../../../connector/src/users/types.js';

const refusal = (fn: () => unknown): SignInError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SignInError) return e;
    throw e;
  }
  throw new Error('accepted');
};

describe('sign-in input', () => {
  test('names are trimmed; 64 characters are fine, 65 are not', () => {
    expect(validName('  Anna Müller ', false)).toBe('Anna Müller');
    expect(validName('a'.repeat(64), true)).toHaveLength(64);
    expect(refusal(() => validName('a'.repeat(65), false)).message).toMatch(/too long/);
  });

  test.each([undefined, null, 7, {}, [], '', ' \t ', 'a\u0000b', 'a\u001bb', 'a\u0085b', 'x\ny'])('name %j is bad input', (raw) => {
    expect(refusal(() => validName(raw, false)).reason).toBe('bad_input');
  });

  test('a colon is refused only where the name goes into Basic auth', () => {
    expect(validName('a:b', false)).toBe('a:b');
    expect(refusal(() => validName('a:b', true)).message).toContain(':');
  });

  test('passwords are kept as typed, spaces included', () => {
    expect(validPassword('  spaced  ', true)).toBe('  spaced  ');
    expect(validPassword('', false)).toBe('');
    expect(validPassword(undefined, false)).toBe('');
  });

  test.each([
    ['', /Enter your password/],
    ['p'.repeat(1025), /too long/],
    ['a\rb', /cannot be used/],
    ['a\u0000', /cannot be used/],
  ])('password %# is bad input without echoing it', (raw, message) => {
    const e = refusal(() => validPassword(raw, true));
    expect(e.reason).toBe('bad_input');
    expect(e.message).toMatch(message);
    if (raw.length > 3) expect(e.message).not.toContain(raw);
  });
});
