import { describe, expect, it } from 'vitest';
import { compareResults } from '../../bench/compare.js';
import { renderReport } from '../../bench/report.js';
import type { BenchResults, Row } from '../../bench/results.js';

const MB = 1024 * 1024;

function row(
  dataset: string,
  operation: Row['operation'],
  pipeline: string,
  wallMs: number[],
  rssMb: number,
  extra: Partial<Row> = {},
): Row {
  return { dataset, kind: 'size', operation, pipeline, wallMs, peakRss: wallMs.map(() => rssMb * MB), dataBytes: 1024 * MB, ...extra };
}

function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    schema: 'orkestra-backup-bench/1',
    commit: 'abc123',
    dirty: false,
    machine: { cores: 2, cpu: 'Test CPU', memoryGb: 24, node: 'v20.20.2' },
    startedAt: '2026-12-01T00:00:00.000Z',
    finishedAt: '2026-12-01T01:00:00.000Z',
    settings: {},
    rows: [
      row('256 MB', 'backup', 'tool', [10_000, 12_000], 150, { dataBytes: 256 * MB }),
      row('256 MB', 'backup', 'bash', [20_000, 20_000], 90, { dataBytes: 256 * MB }),
      row('256 MB', 'restore', 'tool', [8_000, 8_000], 180, { dataBytes: 256 * MB }),
      row('2 GB', 'backup', 'tool', [80_000, 84_000], 160, { dataBytes: 2048 * MB }),
      row('2 GB', 'backup', 'bash', [160_000, 160_000], 350, { dataBytes: 2048 * MB }),
      row('2 GB', 'restore', 'tool', [60_000, 60_000], 190, { dataBytes: 2048 * MB }),
    ],
    limits: [{ dataset: '2 GB', operation: 'backup', wallMs: 41_000, parts: [{ name: 'pigz', wallMs: 41_000 }] }],
    variants: [],
    ...overrides,
  };
}

describe('the benchmark report', () => {
  it('puts the machine limit under the bash row and gives the tool as a multiple of it beside its ratio to bash', () => {
    const report = renderReport(results());
    expect(report).toContain('| 2 GB (2048 MB) | backup | tool | 82.0 s | 25 | 160 MB |  | 0.51 (tool / bash), 2.00× limit |');
    expect(report).toContain('| 2 GB (2048 MB) | backup | machine limit | 41.0 s | 50 | | | |');
    expect(report).toContain('| 2 GB | backup | pigz | 41.0 s |');
  });

  it('reports time per GB and peak RSS at each size, with the spread across sizes', () => {
    const report = renderReport(results());
    // 256 MB: 11 s for a quarter GB = 44 s/GB; 2 GB: 82 s for 2 GB = 41 s/GB.
    expect(report).toContain('| 256 MB (256 MB) | 44.0 s | 150 MB | 32.0 s | 180 MB |');
    expect(report).toContain('| 2 GB (2048 MB) | 41.0 s | 160 MB | 30.0 s | 190 MB |');
    expect(report).toContain('peak RSS spread 7 % (backup), 6 % (restore)');
    expect(report).toContain('×0.93 (backup), ×0.94 (restore)');
  });

  it('gives the small-objects dataset its own table in objects per second', () => {
    const small = row('100,000 small objects', 'backup', 'tool', [200_000], 170, { kind: 'small objects', objects: 100_000 });
    const bash = row('100,000 small objects', 'backup', 'bash', [500_000], 80, { kind: 'small objects', objects: 100_000 });
    const report = renderReport(results({ rows: [...results().rows, small, bash] }));
    expect(report).toContain('| backup | tool | 200.0 s | 500 | 170 MB | 0.40 (tool / bash) |');
    expect(report).toContain('| backup | bash | 500.0 s | 200 | 80 MB |  |');
  });
});

describe('bench:compare', () => {
  it('shows each row of both runs with its change, and names rows only one run has', () => {
    const before = results();
    const after = results({
      commit: 'def456',
      rows: before.rows
        .filter((entry) => entry.dataset === '2 GB')
        .map((entry) => (entry.pipeline === 'tool' ? { ...entry, wallMs: entry.wallMs.map((ms) => ms / 2) } : entry)),
    });
    const text = compareResults(before, after);
    expect(text).toContain('| 2 GB | backup | tool | 82.0 s | 41.0 s | -50.0 % | 160 MB | 160 MB |');
    expect(text).toContain('| 2 GB | backup | bash | 160.0 s | 160.0 s | +0.0 % | 350 MB | 350 MB |');
    expect(text).toContain('only in a: 256 MB | backup | tool');
    expect(text).not.toContain('different machines');
  });

  it('says so when the two runs come from different machines', () => {
    const text = compareResults(results(), results({ machine: { cores: 8, cpu: 'Other', memoryGb: 64, node: 'v22.1.0' } }));
    expect(text).toContain('different machines: a 2 cores Test CPU, 24 GB, Node v20.20.2; b 8 cores Other, 64 GB, Node v22.1.0');
  });
});
