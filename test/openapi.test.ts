/**
 * The node's OpenAPI document is complete: every route it serves declares a success response schema, and every
 * route the node serves is declared once in src/protocol (so clients typed from the protocol reach all of it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, silentLogger } from '../src/core/index.js';
import { type NodeUp, nodeUp } from '../src/node/index.js';
import { datanetsApi, factoryApi, nodeApi, openloraApi, type RouteDef, settlementApi } from '../src/protocol/index.js';

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

function isRoute(v: unknown): v is RouteDef {
  return typeof v === 'object' && v !== null && 'method' in v && 'path' in v && 'response' in v;
}

/** Every route declared in the protocol, as "METHOD /openapi/{path}". */
function declaredRoutes(): Set<string> {
  const out = new Set<string>();
  for (const group of [nodeApi, datanetsApi, factoryApi, settlementApi, openloraApi])
    for (const v of Object.values(group))
      if (isRoute(v)) out.add(`${v.method} ${v.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
  return out;
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
  >;
}

describe('the OpenAPI document of a running node', () => {
  let dataDir: string;
  let node: NodeUp;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tributary-openapi-'));
    node = await nodeUp(loadConfig({ flags: { dataDir, port: 0 }, env: {} }), silentLogger());
    const res = await fetch(`${node.api}/openapi.json`);
    doc = (await res.json()) as OpenApiDoc;
    expect(res.status, JSON.stringify(doc).slice(0, 2000)).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('declares a success response schema for every route', () => {
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        if (!METHODS.includes(method)) continue;
        const ok = Object.entries(op.responses ?? {}).some(
          ([code, r]) => /^2/.test(code) && (code === '204' || Object.values(r.content ?? {}).some((c) => c.schema)),
        );
        if (!ok) missing.push(`${method.toUpperCase()} ${path}`);
      }
    expect(missing).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(20);
  });

  it('serves exactly the routes declared in src/protocol', () => {
    const served = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths))
      for (const method of Object.keys(ops))
        if (METHODS.includes(method)) served.add(`${method.toUpperCase()} ${path}`);
    const declared = declaredRoutes();
    expect([...served].filter((r) => !declared.has(r)).sort()).toEqual([]);
    expect([...declared].filter((r) => !served.has(r)).sort()).toEqual([]);
  });
});
