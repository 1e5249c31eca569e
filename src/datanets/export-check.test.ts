import { describe, expect, it } from 'vitest';
import { pinnedExport } from '../../test/fixtures/pinned-export.js';
import { parsePinnedExport, type VersionExportLine } from '../protocol/index.js';
import { checkPinnedExport } from './export-check.js';

const dataNetId = 3n;
const who = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'] as const;
const texts = ['Varnholm has forty-two gulls.', 'Ostrava trades copper kettles.', 'Quince glue mends violins.'];
const version = pinnedExport(
  dataNetId,
  texts.map((text, i) => ({ contributor: who[i % 2] ?? who[0], text })),
  new Map([[1, new Date('2026-01-02T03:04:05Z')]]),
);
/** A version's export as a node writes it: every row in leaf order, one withdrawn. */
const exportLines = (): VersionExportLine[] => [...version.lines];
const committed = () => ({ dataNetId, version: 1, root: version.root, count: 3n });
const jsonl = (lines: readonly unknown[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
const messageOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'no error';
};

describe('a pinned version export', () => {
  it('recomputes the committed root from every row, withdrawn ones included, read back from its JSON lines', () => {
    const lines = parsePinnedExport(jsonl(exportLines()), 'v1.jsonl');
    expect(checkPinnedExport(lines, committed())).toEqual({ root: committed().root, rows: 3, live: 2, withdrawn: 1 });
  });

  it('refuses a node that drops its withdrawn row from the export (the root no longer matches)', () => {
    const lines = exportLines().filter((r) => !r.withdrawn);
    expect(messageOf(() => checkPinnedExport(lines, committed()))).toBe(
      `The export of DataNet 3 version 1 has 2 rows; the version committed on chain has 3`,
    );
    expect(messageOf(() => checkPinnedExport(lines, { ...committed(), count: 2n }))).toMatch(
      /^The export of DataNet 3 version 1 makes the Merkle root 0x[0-9a-f]{64}; the root committed on chain is 0x/,
    );
  });

  it('refuses a node that swaps a row text for another (attributing against a corpus it did not commit)', () => {
    const lines = exportLines();
    const swapped = lines.map((r) => (r.withdrawn ? r : { ...r, text: 'Varnholm has no gulls at all.' }));
    expect(messageOf(() => checkPinnedExport(swapped, committed()))).toBe(
      `The export of DataNet 3 version 1 has row 1 (${lines[0]?.id}) whose text is not its content's text`,
    );
    const edited = lines.map((r) => (r.withdrawn ? r : { ...r, content: { text: 'edited' }, text: 'edited' }));
    expect(messageOf(() => checkPinnedExport(edited, committed()))).toBe(
      `The export of DataNet 3 version 1 has row 1 (${lines[0]?.id}) whose content does not hash to its content hash`,
    );
  });

  it('refuses a row credited to another contributor than its leaf says', () => {
    const lines = exportLines().map((r, i) =>
      i === 2 ? { ...r, contributor: who[0] === r.contributor ? who[1] : who[0] } : r,
    );
    expect(messageOf(() => checkPinnedExport(lines, committed()))).toBe(
      `The export of DataNet 3 version 1 has row 3 (${lines[2]?.id}) that is not the leaf of its contributor, content hash and license`,
    );
  });

  it('refuses a version 1 export by name: it cannot pin a version', () => {
    const v1 = exportLines()
      .filter((r) => !r.withdrawn)
      .map(({ exportVersion: _, contentHash: __, licenseId: ___, withdrawn: ____, ...r }) => r);
    expect(messageOf(() => parsePinnedExport(jsonl(v1), 'old.jsonl'))).toBe(
      'old.jsonl is a version 1 export (no "exportVersion"): it leaves withdrawn rows out and carries no leaf data, so the version\'s Merkle root cannot be recomputed from it; export the version again from a node that writes version 2',
    );
  });
});
