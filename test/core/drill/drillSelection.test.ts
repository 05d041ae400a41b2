import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/args.js';
import { helpText } from '../../../src/cli/help.js';
import { RESTORE_SELECTORS } from '../../../src/components/index.js';
import type { Component, RestoreSelector } from '../../../src/core/component.js';
import { drillText } from '../../../src/core/drill/drillReport.js';
import {
  refuseComponentsWithoutSelectors,
  refuseDrillFlags,
  refuseUncheckedSelection,
  selectionOf,
  selectionText,
} from '../../../src/core/drill/drillSelection.js';
import type { DrillReport } from '../../../src/core/drill/runDrill.js';
import { narrowToSelection } from '../../../src/core/restoreSelection.js';
import { lastDrill } from '../../../src/core/status/statusHistory.js';
import type { HistoryRecord } from '../../../src/model/history.js';
import { FILES, KEYS, selectingComponent } from '../../helpers/selectingComponent.js';
import { usageMessage } from '../../helpers/usageError.js';

const TO_DB: RestoreSelector = { flag: 'to-db', value: 'N', repeatable: false, help: 'to-db', beside: true };
const DELETE: RestoreSelector = { flag: 'delete-missing', repeatable: false, help: 'delete', notInDrill: 'the copy starts empty' };

function component(name: string, selectors: RestoreSelector[], checksSelection: boolean): Component {
  return {
    ...selectingComponent(name, selectors),
    drill: {
      checksSelection,
      check: async (context) => [{ name: JSON.stringify(context.selection ?? null), ok: true, expected: '', measured: '' }],
    },
  };
}

const redis = component('redis', [KEYS, TO_DB, DELETE], true);
const graph = component('graph', [FILES], false);

describe('which selectors a drill takes', () => {
  it('a beside flag is refused with the reason: a drill always restores beside', () => {
    expect(usageMessage(() => refuseDrillFlags([redis], { keys: ['a*'], 'to-db': ['1'] }))).toBe(
      '--to-db restores beside the live target, and a drill always restores beside: into throwaway copies, never the live stack.',
    );
  });

  it('a flag whose declaration says it means nothing in a drill is refused with that reason', () => {
    expect(usageMessage(() => refuseDrillFlags([redis], { 'delete-missing': ['yes'] }))).toBe(
      '--delete-missing means nothing in a drill: the copy starts empty.',
    );
  });

  it('narrowing flags pass; a flag no component declares is left to the restore`s own refusal', () => {
    expect(() => refuseDrillFlags([redis], { keys: ['session:*'] })).not.toThrow();
    expect(() => refuseDrillFlags([redis], { files: ['.env'] })).not.toThrow();
  });

  it('a selected component whose drill cannot check a selection is refused, naming it', () => {
    expect(usageMessage(() => refuseUncheckedSelection(narrowToSelection([redis, graph], { files: ['x'] }, undefined)))).toBe(
      'a drill cannot check a selection of graph: its selectors are for restore only.',
    );
    expect(() => refuseUncheckedSelection(narrowToSelection([redis, graph], { keys: ['x'] }, undefined))).not.toThrow();
  });

  it('a selected component with no drill at all is refused: nothing would check it, and a drill of nothing would pass', () => {
    const undrilled: Component = { ...component('cache', [KEYS], true), drill: undefined };
    expect(usageMessage(() => refuseUncheckedSelection(narrowToSelection([undrilled, graph], { keys: ['x'] }, undefined)))).toBe(
      'a drill cannot restore cache into a throwaway copy: nothing would check the selection.',
    );
  });

  it('-c without a selector is refused (a drill without selectors drills everything)', () => {
    expect(usageMessage(() => refuseComponentsWithoutSelectors('redis', {}))).toMatch(/^drill -c goes with a selector/);
    expect(() => refuseComponentsWithoutSelectors('redis', { keys: ['a'] })).not.toThrow();
    expect(() => refuseComponentsWithoutSelectors(undefined, {})).not.toThrow();
  });

  it('the narrowed component hands its selection to its drill check, and the report names it as given', async () => {
    const [narrowed] = narrowToSelection([redis, graph], { keys: ['session:*', 'cart:*'] }, undefined);
    const checks = await narrowed.drill!.check({} as Parameters<NonNullable<Component['drill']>['check']>[0]);
    expect(JSON.parse(checks[0].name)).toEqual({ flags: { keys: ['session:*', 'cart:*'] }, beside: false });
    const selection = selectionOf(narrowed, { keys: ['session:*', 'cart:*'], files: [] });
    expect(selection).toEqual({ keys: ['session:*', 'cart:*'] });
    expect(selectionText(narrowed, selection)).toBe("--keys 'session:*' --keys 'cart:*'");
    expect(selectionText(redis, { 'delete-missing': ['yes'], keys: ["it's"] })).toBe("--delete-missing --keys 'it'\\''s'");
  });
});

describe('drill on the command line and in --help', () => {
  it('drill parses every declared selector and -c; the refusals are the drill`s', () => {
    const parsed = parseCommandLine(['drill', 'latest', '--keys', 'session:*', '--db', '0', '-c', 'redis', '--into', 'x']);
    expect(parsed.selectors).toEqual({ keys: ['session:*'], db: ['0'], into: ['x'] });
    expect(parsed.components).toBe('redis');
  });

  it('drill --help lists the narrowing selectors and names the refused ones', () => {
    const help = helpText('drill');
    for (const selector of RESTORE_SELECTORS) {
      if (selector.beside || selector.notInDrill) expect(help).toMatch(new RegExp(`Refused .*--${selector.flag}\\b`));
      else expect(help).toContain(`--${selector.flag} <${selector.value}>`);
    }
    expect(help).toMatch(/--keys <GLOB>/);
  });
});

describe('a selective drill in the report and the history', () => {
  const report: DrillReport = {
    id: 'd1',
    archive: 'a.tar.gz',
    createdAt: '2026-01-01T00:00:00Z',
    components: [
      {
        name: 'redis',
        restored: '2 keys restored',
        selection: { keys: ['session:*'] },
        selected: "--keys 'session:*'",
        checks: [
          { name: "the copy holds exactly the selection's keys of the archived RDB", ok: true, expected: '2 keys', measured: '2 keys' },
        ],
      },
    ],
    unmatchedCanaries: [],
    notDrilled: [],
    selective: true,
    canariesNotChecked: ['site logo'],
    phases: [{ name: 'restore', ms: 20 }],
    ok: true,
  };

  it('the report says what was selected, that canaries were not checked, and that the selection restores', () => {
    const text = drillText(report);
    expect(text).toContain("Selective drill: only redis --keys 'session:*' restored into the copies and checked");
    expect(text).toContain("redis (--keys 'session:*')  restored: 2 keys restored");
    expect(text).toContain('canaries not checked (a selective drill proves its selection only): site logo');
    expect(text.trim().split('\n').at(-1)).toBe('Drill PASSED: the selection restores; 1 check passed.');
  });

  it('status`s last drill is the last whole drill: a selective one proves only its selection', () => {
    const at = (hour: number) => `2026-12-01T0${hour}:00:00Z`;
    const base = { version: 1, result: 'success', exitCode: 0, environment: 'prod', host: 'h', command: 'drill' } as const;
    const whole: HistoryRecord = { ...base, startedAt: at(1), endedAt: at(1), result: 'failure', exitCode: 1, drillOk: false };
    const selective: HistoryRecord = {
      ...base,
      startedAt: at(2),
      endedAt: at(2),
      drillOk: true,
      drillSelection: { redis: { keys: ['s*'] } },
    };
    expect(lastDrill([whole, selective])).toMatchObject({ at: at(1), ok: false });
  });
});
