import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { version as coreVersion } from '../../core/index.js';
import { inputFormats, piiKinds } from '../../datanets/index.js';
import { bundledBaseModel } from '../../engine/index.js';
import { buildProgram, version } from '../main.js';

const cli = resolve(import.meta.dirname, '..');

/** What a file imports when it is evaluated: static imports and re-exports, not `import type` nor `import()`. */
function valueImports(source: string): string[] {
  const out: string[] = [];
  const re = /^(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) out.push(m[1] as string);
  return out;
}

/** Every file and package that evaluating `entry` evaluates. */
function loadedBy(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of valueImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(cli, f)).sort(), packages: [...packages].sort() };
}

/** The help text of option `flag` of the command at `path`. */
const optionHelp = (program: Command, path: string[], flag: string): string | undefined =>
  path
    .reduce((c, name) => c.commands.find((s) => s.name() === name) as Command, program)
    .options.find((o) => o.long === flag)?.description;

describe('the program definition', () => {
  it('loads only commander and the command definitions, never an action or a domain folder', () => {
    const { files, packages } = loadedBy(join(cli, 'index.ts'));
    expect(files.filter((f) => !/^(index|main)\.ts$|^commands\/[a-z]+\.ts$/.test(f))).toEqual([]);
    expect(packages.filter((p) => p !== 'commander' && !p.startsWith('node:'))).toEqual([]);
  });

  it("shows the domain folders' values it keeps copies of, and core's version", () => {
    const program = buildProgram();
    expect(version).toBe(coreVersion);
    expect(optionHelp(program, ['datanet', 'create'], '--pii')).toBe(
      `PII policy per kind (${piiKinds.join(', ')}; actions reject|redact|allow), e.g. email=reject`,
    );
    expect(optionHelp(program, ['datanet', 'contribute'], '--format')).toBe(
      `input format (${inputFormats.join('|')}); default from the file extension, jsonl for stdin`,
    );
    expect(optionHelp(program, ['model', 'train'], '--base')).toBe(`base model (default ${bundledBaseModel.name})`);
  });
});
