import { UsageError } from '../base/errors.js';

/** How many of each to keep, as restic's `forget --keep-*`; absent rules keep nothing. */
export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export const RETENTION_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type RetentionRule = (typeof RETENTION_RULES)[number];

export interface RetentionCandidate {
  readonly id: string;
  readonly createdAt: Date;
  /** Orders candidates of the same createdAt: the higher is the newer (the `-N` of a backup's name; 1 without one). */
  readonly sequence?: number;
  /** Only sound archives fill a keep slot: a broken or empty one never displaces a good one. */
  readonly sound: boolean;
  /**
   * Why its soundness is not known, when it is not (an encrypted archive no key opens and no
   * record vouches for): it fills no keep slot and is kept whatever the rules, even with
   * removeBroken, which removes only archives known to be broken.
   */
  readonly soundnessUnknown?: string;
}

export interface RetentionDecision<T extends RetentionCandidate> {
  readonly candidate: T;
  readonly keep: boolean;
  /** Why it is kept ("daily 2026-11-30", "newest sound archive", "broken: left in place", "soundness unknown: left in place"), empty when removed. */
  readonly reasons: string[];
}

/**
 * restic's `forget` rules over archives: newest first, each bucketed rule keeps the newest
 * archive of each of its N most recent periods (UTC, by the manifest's createdAt), `last` the N
 * newest; the union of all rules is kept. Broken archives take no slot and are kept (reported)
 * unless `removeBroken`; archives of unknown soundness take no slot and are always kept; the
 * newest sound archive is always kept. Ties on createdAt are ordered by sequence, then id.
 */
export function applyRetention<T extends RetentionCandidate>(
  candidates: readonly T[],
  policy: RetentionPolicy,
  options: { removeBroken?: boolean } = {},
): RetentionDecision<T>[] {
  const newestFirst = [...candidates].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.sequence ?? 1) - (a.sequence ?? 1) || b.id.localeCompare(a.id),
  );
  const left = new Map(RETENTION_RULES.map((rule) => [rule, policy[rule] ?? 0]));
  const lastPeriod = new Map<RetentionRule, string>();
  let newestSoundSeen = false;
  return newestFirst.map((candidate) => {
    if (candidate.soundnessUnknown !== undefined) return { candidate, keep: true, reasons: ['soundness unknown: left in place'] };
    if (!candidate.sound) {
      return { candidate, keep: !options.removeBroken, reasons: options.removeBroken ? [] : ['broken: left in place'] };
    }
    const reasons: string[] = [];
    if (!newestSoundSeen) reasons.push('newest sound archive');
    newestSoundSeen = true;
    for (const rule of RETENTION_RULES) {
      const period = periodOf(rule, candidate);
      if (left.get(rule)! <= 0 || period === lastPeriod.get(rule)) continue;
      lastPeriod.set(rule, period);
      left.set(rule, left.get(rule)! - 1);
      reasons.push(rule === 'last' ? 'last' : `${rule} ${period}`);
    }
    return { candidate, keep: reasons.length > 0, reasons };
  });
}

/** The period an archive falls in for a rule; `last` gives every archive its own. */
function periodOf(rule: RetentionRule, candidate: RetentionCandidate): string {
  const iso = candidate.createdAt.toISOString();
  switch (rule) {
    case 'last':
      return candidate.id;
    case 'hourly':
      return `${iso.slice(0, 13)}h`;
    case 'daily':
      return iso.slice(0, 10);
    case 'weekly':
      return isoWeek(candidate.createdAt);
    case 'monthly':
      return iso.slice(0, 7);
    case 'yearly':
      return iso.slice(0, 4);
  }
}

/** ISO 8601 week (`2026-W48`): weeks start on Monday, week 1 holds the year's first Thursday. */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** `hourly=24,daily=30,monthly=12` (the form of `backup --prune`). */
export function parseRetentionPolicy(text: string): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const part of text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+)=(\d+)$/.exec(part);
    const rule = match?.[1] as RetentionRule | undefined;
    if (!match || !RETENTION_RULES.includes(rule!)) {
      throw new UsageError(`--prune: "${part}" is not a keep rule.`, { hint: `Use rule=N with the rules ${RETENTION_RULES.join(', ')}.` });
    }
    policy[rule!] = Number(match[2]);
  }
  return requireSomeRule(policy, '--prune');
}

/** A policy that keeps nothing would remove every archive but the newest: refused. */
export function requireSomeRule(policy: RetentionPolicy, where: string): RetentionPolicy {
  if (!RETENTION_RULES.some((rule) => (policy[rule] ?? 0) > 0)) {
    throw new UsageError(`${where} needs at least one keep rule above 0; nothing was removed.`, {
      hint: 'For example --keep-daily 7 --keep-monthly 12.',
    });
  }
  return policy;
}
