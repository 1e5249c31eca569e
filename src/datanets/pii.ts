/**
 * Personal data detection: e-mail addresses, phone numbers, payment card numbers (Luhn-checked), IBANs
 * (mod-97-checked), US social security numbers, and IPv4/IPv6 addresses. Checksums keep ordinary numbers (ids,
 * prices, dates) from being flagged. Each DataNet chooses per kind: reject the row, redact the match, or allow.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { datanetsApi } from '../protocol/index.js';

/** The kinds and the actions are the metadata document's (src/protocol/http/datanets.ts). */
export const { piiKinds } = datanetsApi;
export type PiiKind = datanetsApi.PiiKind;
export type PiiAction = datanetsApi.PiiAction;

export interface PiiPolicy {
  /** What to do with any kind not listed in `kinds`. */
  default: PiiAction;
  kinds?: Partial<Record<PiiKind, PiiAction>> | undefined;
}

export interface PiiFinding {
  kind: PiiKind;
  start: number;
  end: number;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    remainder = v >= 10 ? (remainder * 100 + v) % 97 : (remainder * 10 + v) % 97;
  }
  return remainder === 1;
}

interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  accept(match: string): boolean;
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

// Order matters: earlier kinds claim their span first (a card number is not also a phone number).
const detectors: Detector[] = [
  { kind: 'email', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, accept: () => true },
  { kind: 'iban', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, accept: ibanValid },
  {
    kind: 'credit_card',
    pattern: /\b\d(?:[ -]?\d){12,18}\b/g,
    accept: (m) => {
      const d = digitsOf(m);
      return d.length >= 13 && d.length <= 19 && !/^(\d)\1+$/.test(d) && luhnValid(d);
    },
  },
  {
    kind: 'ssn',
    pattern: /\b\d{3}-\d{2}-\d{4}\b/g,
    accept: (m) => !/^(000|666|9\d\d)/.test(m) && !/-00-/.test(m) && !m.endsWith('-0000'),
  },
  { kind: 'ip_address', pattern: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g, accept: isIPv4 },
  {
    kind: 'ip_address',
    pattern: /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g,
    accept: (m) => m.length > 2 && isIPv6(m),
  },
  {
    kind: 'phone',
    // +country or a parenthesized area code or separated groups; 9-15 digits in all.
    // Not part of a longer run of digit groups (a failed card number is not a phone number).
    pattern:
      /(?<![\w+])(?<!\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?!\w)(?![ .-]\d)/g,
    accept: (m) => {
      const n = digitsOf(m).length;
      const structured = m.startsWith('+') || m.includes('(') || /\d[ .-]\d/.test(m);
      return n >= 9 && n <= 15 && structured && !/^\d{4}-\d{2}-\d{2}$/.test(m);
    },
  },
];

/** Every PII match in `text`, by position; overlapping matches go to the earlier detector. */
export function findPii(text: string): PiiFinding[] {
  const found: PiiFinding[] = [];
  const overlaps = (s: number, e: number) => found.some((f) => s < f.end && e > f.start);
  for (const d of detectors) {
    for (const m of text.matchAll(d.pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (!overlaps(start, end) && d.accept(m[0])) found.push({ kind: d.kind, start, end });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

export function actionFor(policy: PiiPolicy, kind: PiiKind): PiiAction {
  return policy.kinds?.[kind] ?? policy.default;
}

/** Replaces the matches the policy redacts with `[KIND]`. */
export function redact(text: string, findings: PiiFinding[], policy: PiiPolicy): string {
  let out = '';
  let at = 0;
  for (const f of findings) {
    if (actionFor(policy, f.kind) !== 'redact') continue;
    out += `${text.slice(at, f.start)}[${f.kind.toUpperCase()}]`;
    at = f.end;
  }
  return out + text.slice(at);
}
