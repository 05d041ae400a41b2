import { describe, expect, it } from 'vitest';
import type { Component, RestoreSelector } from '../../src/core/component.js';
import { replacedSummary } from '../../src/core/reports.js';
import { narrowToSelection, restoreSelectorsOf } from '../../src/core/restoreSelection.js';
import { FILES, KEYS, selectingComponent } from '../helpers/selectingComponent.js';
import { usageMessage } from '../helpers/usageError.js';

const INTO: RestoreSelector = { flag: 'into', value: 'DIR', repeatable: false, help: 'into', beside: true };

const secrets = selectingComponent('secrets', [FILES, INTO]);
const spool = selectingComponent('spool', [FILES, INTO]);
const redis = selectingComponent('redis', [KEYS]);
const mongodb = selectingComponent('mongodb');

describe('restoreSelectorsOf', () => {
  it('lists each flag once, and refuses one flag declared two ways', () => {
    expect(restoreSelectorsOf([secrets, spool, redis, mongodb]).map((selector) => selector.flag)).toEqual(['files', 'into', 'keys']);
    expect(() => restoreSelectorsOf([secrets, { selectors: [{ ...FILES, repeatable: false }] }])).toThrow(/--files is declared twice/);
  });
});

describe('narrowToSelection', () => {
  it('without selectors, the candidates unchanged', () => {
    expect(narrowToSelection([mongodb, secrets], {}, undefined)).toEqual([mongodb, secrets]);
  });

  it('keeps only the components a selector picks from, each planning with its own flags and whether it restores beside', async () => {
    const chosen = narrowToSelection([mongodb, redis, secrets], { files: ['.env'], into: ['/tmp/x'], keys: ['session:*'] }, undefined);
    expect(chosen.map((entry) => entry.name)).toEqual(['redis', 'secrets']);
    const context = {} as Parameters<Component['planRestore']>[0];
    expect(JSON.parse((await chosen[1].planRestore(context)).selection!.totals)).toEqual({
      flags: { files: ['.env'], into: ['/tmp/x'] },
      beside: true,
    });
    expect(JSON.parse((await chosen[0].planRestore(context)).selection!.totals)).toEqual({ flags: { keys: ['session:*'] }, beside: false });
  });

  it('refuses a flag two candidates take, naming them; -c picks one', () => {
    expect(usageMessage(() => narrowToSelection([secrets, spool], { files: ['a'] }, undefined))).toBe(
      '--files could apply to secrets, spool: name the one it picks from.',
    );
    expect(narrowToSelection([spool], { files: ['a'] }, 'spool').map((entry) => entry.name)).toEqual(['spool']);
  });

  it('refuses a flag no candidate takes, and -c naming a component no selector picks from', () => {
    expect(usageMessage(() => narrowToSelection([mongodb, redis], { files: ['a'] }, undefined))).toBe(
      '--files applies to no component of this restore.',
    );
    expect(usageMessage(() => narrowToSelection([mongodb, secrets], { files: ['a'] }, 'mongodb,secrets'))).toMatch(
      /^-c names mongodb, which no selector given picks from/,
    );
  });

  it('a component whose plan ignores its selection is a programming error, never a whole restore', async () => {
    const careless = { ...selectingComponent('careless', [FILES]), planRestore: async () => ({ actions: [], replaces: [], warnings: [] }) };
    const [chosen] = narrowToSelection([careless], { files: ['a'] }, undefined);
    await expect(chosen.planRestore({} as Parameters<Component['planRestore']>[0])).rejects.toThrow(/planned a whole restore/);
  });
});

describe('what the gate says of a selective restore (replacedSummary, shared by the CLI and the TUI)', () => {
  it('in place: only the selection, its totals, then what it replaces; beside: where it writes and that the live target is not touched', () => {
    const plan = { actions: [], replaces: ['docker/.env'], warnings: [] };
    expect(replacedSummary(plan)).toBe('docker/.env');
    expect(
      replacedSummary({ ...plan, selection: { totals: '1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical' } }),
    ).toBe('only the selection — 1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical; replaces: docker/.env');
    expect(replacedSummary({ ...plan, replaces: [], selection: { totals: '2 files', beside: '/tmp/restored' } })).toBe(
      'only the selection — 2 files; written into /tmp/restored, the live target is not touched',
    );
  });
});
