import prettyBytes from 'pretty-bytes';

/** Sizes, rates and durations as the operator reads them in the CLI, the TUI and reports. */
export function formatBytes(bytes: number): string {
  return prettyBytes(bytes, { maximumFractionDigits: 1 });
}

export function formatRate(bytes: number, elapsedMs: number): string {
  if (elapsedMs < 50) return '';
  return `${prettyBytes((bytes * 1000) / elapsedMs, { maximumFractionDigits: 1 })}/s`;
}

export function formatDuration(elapsedMs: number): string {
  if (elapsedMs < 10_000) return `${(elapsedMs / 1000).toFixed(1)} s`;
  const seconds = Math.round(elapsedMs / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes === 0 ? `${seconds} s` : `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
}
