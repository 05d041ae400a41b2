import { createRequire } from 'node:module';

/** A metric family as parse-prometheus-text-format returns it (prom2json's shape). */
export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

// The package ships CommonJS without types.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/** The text exposition format read by a parser written to the Prometheus format, not by our own code. */
export function parsePrometheusText(text: string): ParsedFamily[] {
  return parse(text);
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(families: readonly ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const samples = families
    .find((family) => family.name === name)
    ?.metrics.filter((metric) => Object.entries(labels).every(([label, value]) => metric.labels?.[label] === value));
  if (!samples || samples.length === 0) return undefined;
  if (samples.length > 1) throw new Error(`${name} has ${samples.length} samples with ${JSON.stringify(labels)}`);
  return Number(samples[0].value);
}
