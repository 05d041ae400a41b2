import { describe, expect, it } from 'vitest';
import { applyRetention, isoWeek, parseRetentionPolicy, type RetentionCandidate, type RetentionPolicy } from '../../src/core/retention.js';

/** A small deterministic generator, so the synthetic set is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Several hundred archives over two years, irregular gaps, some broken. */
function syntheticSet(): RetentionCandidate[] {
  const next = random(7);
  const candidates: RetentionCandidate[] = [];
  let time = Date.UTC(2024, 10, 30, 3, 0, 0);
  const end = Date.UTC(2026, 10, 30, 3, 0, 0);
  while (time < end) {
    time += Math.floor(next() * 36 * 3_600_000) + 600_000; // 10 minutes to 36 hours apart
    candidates.push({ id: `a-${time}`, createdAt: new Date(time), sound: next() > 0.08 });
  }
  return candidates;
}

/**
 * The keep set worked out the other way round from the implementation: group the sound
 * archives by period, take each group's newest, keep the N newest groups of every rule.
 */
function expectedKeep(candidates: readonly RetentionCandidate[], policy: RetentionPolicy): Set<string> {
  const sound = candidates.filter((candidate) => candidate.sound).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const keep = new Set<string>(candidates.filter((candidate) => !candidate.sound).map((candidate) => candidate.id));
  if (sound.length > 0) keep.add(sound[0].id);
  for (const candidate of sound.slice(0, policy.last ?? 0)) keep.add(candidate.id);
  const keys: Record<string, (date: Date) => string> = {
    hourly: (date) => date.toISOString().slice(0, 13),
    daily: (date) => date.toISOString().slice(0, 10),
    weekly: (date) => isoWeek(date),
    monthly: (date) => date.toISOString().slice(0, 7),
    yearly: (date) => date.toISOString().slice(0, 4),
  };
  for (const [rule, key] of Object.entries(keys)) {
    const newestOfPeriod = new Map<string, RetentionCandidate>();
    for (const candidate of sound)
      if (!newestOfPeriod.has(key(candidate.createdAt))) newestOfPeriod.set(key(candidate.createdAt), candidate);
    const groups = [...newestOfPeriod.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    for (const candidate of groups.slice(0, policy[rule as keyof RetentionPolicy] ?? 0)) keep.add(candidate.id);
  }
  return keep;
}

describe('retention (restic forget rules)', () => {
  const candidates = syntheticSet();

  it('works on a synthetic set of several hundred archives over two years, broken ones among them', () => {
    expect(candidates.length).toBeGreaterThan(500);
    expect(candidates.filter((candidate) => !candidate.sound).length).toBeGreaterThan(20);
  });

  for (const policy of [
    { hourly: 24, daily: 30, monthly: 12 },
    { last: 5, weekly: 8, yearly: 3 },
    { daily: 7 },
    { last: 1 },
    { hourly: 1000, daily: 1000, weekly: 1000, monthly: 1000, yearly: 1000 },
  ] satisfies RetentionPolicy[]) {
    it(`keeps exactly the expected set for ${JSON.stringify(policy)}`, () => {
      const kept = applyRetention(candidates, policy).filter((decision) => decision.keep);
      expect(new Set(kept.map((decision) => decision.candidate.id))).toEqual(expectedKeep(candidates, policy));
    });
  }

  it('a run of broken archives never displaces a good one, and is removed only when asked', () => {
    const good = { id: 'good', createdAt: new Date('2026-11-01T00:00:00Z'), sound: true };
    const broken = [1, 2, 3].map((day) => ({ id: `broken-${day}`, createdAt: new Date(`2026-11-0${day + 1}T00:00:00Z`), sound: false }));
    const decisions = applyRetention([good, ...broken], { daily: 1 });
    expect(decisions.find((decision) => decision.candidate.id === 'good')).toMatchObject({ keep: true });
    expect(decisions.filter((decision) => !decision.candidate.sound).every((decision) => decision.keep)).toBe(true);
    const removing = applyRetention([good, ...broken], { daily: 1 }, { removeBroken: true });
    expect(
      removing
        .filter((decision) => !decision.keep)
        .map((decision) => decision.candidate.id)
        .sort(),
    ).toEqual(['broken-1', 'broken-2', 'broken-3']);
  });

  it('archives of unknown soundness fill no slot and are kept even with removeBroken', () => {
    const good = { id: 'good', createdAt: new Date('2026-11-01T00:00:00Z'), sound: true };
    const older = { id: 'older', createdAt: new Date('2026-10-01T00:00:00Z'), sound: true };
    const unknown = { id: 'unknown', createdAt: new Date('2026-11-02T00:00:00Z'), sound: false, soundnessUnknown: 'no record beside it' };
    for (const removeBroken of [false, true]) {
      const decisions = applyRetention([older, good, unknown], { last: 1 }, { removeBroken });
      expect(decisions.map(({ candidate, keep, reasons }) => [candidate.id, keep, reasons])).toEqual([
        ['unknown', true, ['soundness unknown: left in place']],
        ['good', true, ['newest sound archive', 'last']],
        ['older', false, []],
      ]);
    }
  });

  it('a tie on createdAt is decided by the sequence (the -N of the name), whatever the input order', () => {
    const at = new Date('2026-11-20T21:58:35Z');
    const first = { id: 'orkestra-backup-local-20261120-215835.tar.gz', createdAt: at, sequence: 1, sound: true };
    const second = { id: 'orkestra-backup-local-20261120-215835-2.tar.gz', createdAt: at, sequence: 2, sound: true };
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const kept = applyRetention(order, { last: 1 }).filter((decision) => decision.keep);
      expect(kept.map((decision) => decision.candidate.id)).toEqual([second.id]);
    }
  });

  it('says which rule keeps an archive', () => {
    const [newest, older] = applyRetention(
      [
        { id: 'older', createdAt: new Date('2026-11-29T10:00:00Z'), sound: true },
        { id: 'newest', createdAt: new Date('2026-11-30T10:00:00Z'), sound: true },
      ],
      { daily: 2 },
    );
    expect(newest.reasons).toEqual(['newest sound archive', 'daily 2026-11-30']);
    expect(older.reasons).toEqual(['daily 2026-11-29']);
  });

  it('ISO weeks start on Monday; 1 January belongs to the week of its Thursday', () => {
    expect(isoWeek(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01'); // a Thursday
    expect(isoWeek(new Date('2027-01-01T12:00:00Z'))).toBe('2026-W53'); // a Friday
    expect(isoWeek(new Date('2026-11-30T23:59:59Z'))).toBe('2026-W49'); // a Monday
    expect(isoWeek(new Date('2026-11-29T23:59:59Z'))).toBe('2026-W48'); // the Sunday before
  });

  it("parses backup --prune's policy and refuses one that keeps nothing", () => {
    expect(parseRetentionPolicy('hourly=24, daily=30,monthly=12')).toEqual({ hourly: 24, daily: 30, monthly: 12 });
    expect(() => parseRetentionPolicy('daily=0')).toThrow(/at least one keep rule/);
    expect(() => parseRetentionPolicy('fortnightly=2')).toThrow(/"fortnightly=2" is not a keep rule/);
  });
});
