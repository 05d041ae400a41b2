import { describe, expect, it } from 'vitest';
import { ReportTail } from '../../../src/app/notify/reportTail.js';

describe('the report tail of a failure ping', () => {
  it('keeps the last 20 lines, a redrawn line in its last state, without terminal codes', () => {
    const tail = new ReportTail([]);
    for (let index = 1; index <= 30; index += 1) tail.push(`line ${index}\n`);
    tail.push('redis: 1 MB\r\x1b[2Kredis: 2 MB\r\x1b[2K');
    tail.push('redis: FAILED — refused\n');
    const lines = tail.lines().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('line 12');
    expect(lines.at(-1)).toBe('redis: FAILED — refused');
    expect(tail.lines()).not.toContain('\x1b');
  });

  it('holds a few kilobytes however much was printed, and masks secrets', () => {
    const tail = new ReportTail(['hunter2-secret']);
    tail.push(`${'x'.repeat(200)}\n`.repeat(10_000));
    tail.push('login with hunter2-secret refused\n');
    const text = tail.lines();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(8 * 1024);
    expect(text.split('\n').at(-1)).toBe('login with *** refused');
  });
});
