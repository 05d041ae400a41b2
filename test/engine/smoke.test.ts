import { inject, describe, it, expect, afterAll } from 'vitest';
import { stackContext, startRedis, startS3, startMongo, execText, uniqueName, type RunningContainer } from './stack.js';

const engine = inject('engine');
describe.skipIf('unavailable' in engine)('smoke', () => {
  const started: RunningContainer[] = [];
  afterAll(async () => { for (const c of started) await c.remove(); });
  it('starts everything', async () => {
    if ('unavailable' in engine) return;
    const stack = stackContext(engine.dockerHost, engine.images);
    const r = await startRedis(stack, uniqueName('r'), { password: 'pw' }); started.push(r);
    const s = await startS3(stack, uniqueName('s'), { accessKey: 'ak', secretKey: 'sk123456' }); started.push(s);
    const m = await startMongo(stack, uniqueName('m')); started.push(m);
    expect(await execText(stack, r.name, ['redis-cli', 'CONFIG', 'GET', 'dir'], ['REDISCLI_AUTH=pw'])).toContain('/data');
    expect(await execText(stack, m.name, ['sh', '-c', 'mongodump --archive | wc -c'])).toContain('896');
    console.log(s.endpoint, (await fetch(s.endpoint)).status);
  });
});
