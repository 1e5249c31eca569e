/**
 * The building blocks of every wire shape. Values that JSON cannot carry exactly travel as strings and are
 * decoded into their real type on both sides of the wire by zod codecs: a schema decodes what it receives
 * (`parse`) and encodes what it sends (`z.encode`, which the node's response serializer uses), so a route returns
 * `bigint` and `Date` and a client gets `bigint` and `Date` back, with the strings in between defined once.
 * Codecs carry OpenAPI metadata for their wire side, because the document describes what crosses the wire.
 */
import { type Address, getAddress, type Hex, isAddress } from 'viem';
import { z } from 'zod';

/** A non-negative integer of any size as a decimal string (amounts in wei, ids, nonces) ⇄ bigint. */
export const uintString = z
  .codec(z.string().regex(/^\d{1,78}$/, 'expected a non-negative integer as a decimal string'), z.bigint(), {
    decode: (s) => BigInt(s),
    encode: (b) => b.toString(),
  })
  .meta({ type: 'string', pattern: '^\\d{1,78}$', description: 'non-negative integer, decimal string' });

/** A non-negative integer kept as its decimal string (where the value stays a string on both sides). */
export const decimal = z.string().regex(/^\d{1,78}$/, 'expected a non-negative integer as a decimal string');

/** An amount in wei: a decimal string (or a safe JSON integer, from hand-written requests) ⇄ bigint. */
export const wei = z
  .codec(
    z.union([
      z.string().regex(/^\d{1,78}$/, 'expected an amount in wei (digits only)'),
      z.number().int().nonnegative(),
    ]),
    z.bigint().nonnegative(),
    { decode: (v) => BigInt(v), encode: (b) => b.toString() },
  )
  .meta({ type: 'string', pattern: '^\\d{1,78}$', description: 'amount in wei, decimal string' });

/** A timestamp as ISO 8601 ⇄ Date. */
export const isoDate = z
  .codec(z.iso.datetime({ offset: true }), z.date(), {
    decode: (s) => new Date(s),
    encode: (d) => d.toISOString(),
  })
  .meta({ type: 'string', format: 'date-time' });

/** A `0x…` string matching `pattern`, typed as viem's Hex, documented as a string with that pattern. */
function hexMatching(pattern: RegExp, message: string) {
  return z
    .custom<Hex>((v) => typeof v === 'string' && pattern.test(v), message)
    .meta({ type: 'string', pattern: pattern.source });
}

/** 0x-prefixed hex of any even length. */
export const hex = hexMatching(/^0x(?:[0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex');

/** A 32-byte hash or id. */
export const bytes32 = hexMatching(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex string');

/** A 65-byte secp256k1 signature. */
export const signature = hexMatching(/^0x[0-9a-fA-F]{130}$/, 'expected a 65-byte hex signature');

/** An address in any case ⇄ its checksummed form. */
export const address = z
  .codec(
    z.string().refine((v) => isAddress(v, { strict: false }), 'expected a 0x-prefixed 20-byte address'),
    z.custom<Address>((v) => typeof v === 'string' && isAddress(v, { strict: false })),
    { decode: (v) => getAddress(v), encode: (v) => v },
  )
  .meta({ type: 'string', pattern: '^0x[0-9a-fA-F]{40}$', description: 'address' });

/** A content identifier of the blob store (CIDv1, base32). */
export const cid = z.string().min(1).max(200);

/** A positive integer in a path or query string. */
export const positiveIntParam = z.coerce.number().int().min(1);

/** A DataNet id in a path: decimal ⇄ bigint. */
export const decimalId = uintString;

export type { Address, Hex };
