/** The selective restore rows: a selection restored from the tool's archive, each against the whole restore of the same run. */
import { smallObject, type DatasetPlan } from './dataset.js';
import { resetObjectStore, type Bench } from './benchStack.js';
import { record, toolRestore } from './pipelines.js';
import { KEYS_PICK, NS_AUDIT_PICK, NS_PICK, OBJECTS_PICK, PREFIX_PICK } from './report.js';
import type { Row } from './results.js';

/** The dataset's selective restores from `archive`, each recorded in the row `row` gives (made when first asked for). */
export async function selectiveRestores(
  bench: Bench,
  kind: Row['kind'],
  plan: DatasetPlan,
  archive: string,
  row: (operation: Row['operation'], pipeline: string) => Row,
): Promise<void> {
  if (kind === 'small objects') {
    // Bucket avatars holds every 4th object, tenant-K/ every 97th: four tenants of it are 4/388 of the objects.
    await resetObjectStore(bench);
    const prefixes = ['0', '4', '8', '12'].map((tenant) => `tenant-${tenant}/`);
    const picks = prefixes.flatMap((prefix) => ['--objects', `avatars/${prefix}`]);
    const picked = row('restore', OBJECTS_PICK);
    picked.objects = pickedObjects(plan, 'avatars', prefixes); // its objects/s counts what it restores
    record(picked, await toolRestore(bench, archive, {}, picks), `tool restore, ${OBJECTS_PICK}`);
  }
  if (kind === 'size') {
    // Keys session:0 … session:N-1: session:1??? are the 1,000 from 1000 to 1999. Collection audit holds 1 % of the data,
    // users, events and module_configs a third each of the rest of the archive (7 % each). uploads/tenant-7/ is 1/50 of the
    // uploads bucket's objects (0.4 % of the data).
    for (const [pipeline, picks] of [
      [KEYS_PICK, ['--keys', 'session:1???', '--db', '0']],
      [NS_PICK, ['--ns', 'users']],
      [NS_AUDIT_PICK, ['--ns', 'audit']],
      [PREFIX_PICK, ['--objects', 'uploads/tenant-7/']],
    ] as const) {
      await resetObjectStore(bench);
      record(row('restore', pipeline), await toolRestore(bench, archive, {}, [...picks]), `tool restore, ${pipeline}`, bench.project);
    }
  }
}

/** How many objects of the small-objects dataset lie in `bucket` under one of `prefixes`. */
function pickedObjects(plan: DatasetPlan, bucket: string, prefixes: readonly string[]): number {
  let count = 0;
  for (let index = 0; index < (plan.manySmall?.count ?? 0); index += 1) {
    const object = smallObject(plan.manySmall!, index);
    if (object.bucket === bucket && prefixes.some((prefix) => object.key.startsWith(prefix))) count += 1;
  }
  return count;
}
