/**
 * Every message key a check can emit has an English and a Simplified Chinese text in admin-ui/i18n.js, with the
 * same `{slots}`; keys are found in the check sources (each `msg(…)` call's literal keys, the transport-failure
 * kinds and the odd-answer families), so a new key without its texts fails here.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { isCheckMessages, msg } from '../../../connector/src/checks/checkMessages.js';
// @ts-expect-error admin-ui/ is the page's plain JavaScript, without type declarations
import { MESSAGES } from '../../../admin-ui/i18n.js';

const CHECKS_DIR = path.resolve('connector/src/checks');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Literal keys in the first argument of each call of `fn(` (ternaries included). */
function literalKeys(text: string, fn: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(new RegExp(`\\b${fn}\\(([^,)]*)`, 'g'))) {
    for (const lit of (m[1] ?? '').matchAll(/'([a-z0-9_]+)'/g)) out.push(lit[1] as string);
  }
  return out;
}

function emittableKeys(): string[] {
  const keys = new Set<string>();
  for (const file of sources(CHECKS_DIR)) {
    const text = readFileSync(file, 'utf8');
    for (const k of literalKeys(text, 'msg')) keys.add(k);
  }
  // classifyTransportError: `transport_<kind>` and `transport_<kind>_fix`
  const transport = readFileSync(path.join(CHECKS_DIR, 'classifyTransportError.ts'), 'utf8');
  for (const m of transport.matchAll(/kind: '([a-z_]+)'/g)) keys.add(`transport_${m[1]}`).add(`transport_${m[1]}_fix`);
  keys.add('transport_dns_temporary');
  // explainAnswer: messages('<name>') → `answer_<name>` and `answer_<name>_fix`
  const answers = readFileSync(path.join(CHECKS_DIR, 'explainAnswer.ts'), 'utf8');
  for (const k of literalKeys(answers, 'messages')) keys.add(`answer_${k}`).add(`answer_${k}_fix`);
  return [...keys].sort();
}

const slots = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string).sort();

describe('check message keys', () => {
  const en = (MESSAGES as Record<string, Record<string, string>>).en as Record<string, string>;
  const zh = (MESSAGES as Record<string, Record<string, string>>)['zh-CN'] as Record<string, string>;
  const keys = emittableKeys();

  test('the scan finds the keys of every family (guards the scan itself)', () => {
    expect(keys.length).toBeGreaterThan(100);
    for (const k of ['reach_ok', 'reach_not_arrived', 'jwt_mismatch', 'transport_timeout_fix', 'answer_ipfilter_fix_seen', 'run_timeout_total', 'mixed_ok_https']) {
      expect(keys).toContain(k);
    }
  });

  test.each(keys)('%s has an English and a Chinese text with the same slots', (key) => {
    const e = en[`msg.${key}`];
    const z = zh[`msg.${key}`];
    expect(typeof e).toBe('string');
    expect(typeof z).toBe('string');
    expect(slots(z as string)).toEqual(slots(e as string));
    expect(z).not.toBe(e); // translated, not copied
  });

  test('Chinese texts keep setting names, commands and snippet slots untranslated', () => {
    expect(zh['msg.reach_other_server_fix']).toContain('REDIS_URL');
    expect(zh['msg.ntp_fix']).toContain('`timedatectl set-ntp true`');
    expect(zh['msg.jwt_enable_fix']).toContain('\n{snippet}\n');
  });

  test('isCheckMessages accepts keys with parameters and rejects garbage', () => {
    expect(isCheckMessages({ summary: msg('reach_ok', { url: 'http://b/probe/<id>', count: 1 }) })).toBe(true);
    expect(isCheckMessages({ summary: { key: 'x' }, fix: { key: 'y', params: { a: 'b' } } })).toBe(true);
    for (const bad of [null, 'x', {}, { summary: { key: 7 } }, { summary: { key: 'Bad Key' } }, { summary: { key: 'a', params: { x: {} } } }, { summary: { key: 'a' }, fix: 'text' }]) {
      expect(isCheckMessages(bad)).toBe(false);
    }
  });
});
