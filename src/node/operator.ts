/**
 * Routes that spend the node's gas or change what it serves are for its operator only. The node keeps a random
 * token in its data directory (readable by the operator's account alone); the CLI on the same machine reads it
 * from there, a remote operator copies it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { BaseError } from '../core/index.js';

export const operatorTokenFile = (dataDir: string) => join(dataDir, 'operator-token');

/** The data directory's operator token, created on first use. */
export function operatorToken(dataDir: string): string {
  const file = operatorTokenFile(dataDir);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return token;
}

/** Throws UNAUTHORIZED unless the request carries `Authorization: Bearer <token>`. */
export function operatorGuard(token: string, dataDir: string) {
  const expected = Buffer.from(token);
  return (req: FastifyRequest): void => {
    const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const ok =
      given !== undefined &&
      Buffer.byteLength(given) === expected.length &&
      timingSafeEqual(Buffer.from(given), expected);
    if (!ok) {
      throw new BaseError(
        'UNAUTHORIZED',
        `${req.method} ${req.routeOptions.url} is for the node's operator: send "Authorization: Bearer <token>" with the token in ${operatorTokenFile(dataDir)}`,
        {
          details: { field: 'authorization' },
        },
      );
    }
  };
}
