/** `20260527-071729`: the UTC stamp used in archive and move-aside folder names. */
export function utcStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `2026-05-27T07:17:29Z`: the manifest's createdAt, to the second like the original. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
