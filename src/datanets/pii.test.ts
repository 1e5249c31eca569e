import { describe, expect, it } from 'vitest';
import { findPii, ibanValid, luhnValid, redact } from './pii.js';

const kinds = (text: string) => findPii(text).map((f) => [f.kind, text.slice(f.start, f.end)]);

describe('PII detection', () => {
  it('finds each kind', () => {
    expect(kinds('Mail jane.doe+x@example.co.uk now')).toEqual([['email', 'jane.doe+x@example.co.uk']]);
    expect(kinds('Card 4111 1111 1111 1111 on file')).toEqual([['credit_card', '4111 1111 1111 1111']]);
    expect(kinds('IBAN GB82 WEST 1234 5698 7654 32.')).toEqual([['iban', 'GB82 WEST 1234 5698 7654 32']]);
    expect(kinds('SSN 123-45-6789')).toEqual([['ssn', '123-45-6789']]);
    expect(kinds('from 192.168.1.20 and 2001:db8::8a2e:370:7334')).toEqual([
      ['ip_address', '192.168.1.20'],
      ['ip_address', '2001:db8::8a2e:370:7334'],
    ]);
    expect(kinds('call +1 415-555-2671 or (020) 7946 0958')).toEqual([
      ['phone', '+1 415-555-2671'],
      ['phone', '(020) 7946 0958'],
    ]);
  });

  it('does not flag ordinary numbers: failed checksums, dates, versions, short ids', () => {
    expect(
      findPii('Order 4111 1111 1111 1112 shipped 2024-03-05, build 10.2.3, id 123456, year 1999, ratio 3:4'),
    ).toEqual([]);
    expect(findPii('GB82 WEST 1234 5698 7654 33 is not valid').map((f) => f.kind)).not.toContain('iban');
    expect(findPii('999.1.1.1 is not an address')).toEqual([]);
  });

  it('redacts what the policy redacts and keeps what it allows', () => {
    const text = 'Write to a@b.io or 192.168.0.1';
    const out = redact(text, findPii(text), { default: 'redact', kinds: { ip_address: 'allow' } });
    expect(out).toBe('Write to [EMAIL] or 192.168.0.1');
  });

  it('checks Luhn and IBAN mod-97', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('DE89 3704 0044 0532 0130 01')).toBe(false);
  });
});
