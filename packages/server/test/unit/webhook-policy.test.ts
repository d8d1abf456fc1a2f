import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_SCHEDULE, parseSchedule } from '../../src/config/config';
import { dueAt } from '../../src/webhooks/schedule';
import { activeSecrets, newSecret, rotate, secretProblem } from '../../src/webhooks/secrets';

describe('the webhook retry schedule', () => {
  it('defaults to the Standard Webhooks schedule, and parses units', () => {
    expect(DEFAULT_WEBHOOK_SCHEDULE).toBe('0,5s,5m,30m,2h,5h,10h,14h,20h,24h');
    expect(parseSchedule(undefined)).toEqual([
      0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
    ]);
    expect(parseSchedule('0, 100ms, 1.5s, 2')).toEqual([0, 100, 1500, 2]);
    expect(() => parseSchedule('0,soon')).toThrow(/not a delay/);
  });

  it('sends the first attempt at once and jitters the retries by at most 10%', () => {
    const schedule = parseSchedule(undefined);
    expect(dueAt(schedule, 0, 1000, () => 1)).toBe(1000);
    expect(dueAt(schedule, 1, 0, () => 0)).toBe(4500);
    expect(dueAt(schedule, 1, 0, () => 0.9999999)).toBe(5500);
    const many = Array.from({ length: 200 }, () => dueAt(schedule, 2, 0) as number);
    expect(Math.min(...many)).toBeGreaterThanOrEqual(270_000);
    expect(Math.max(...many)).toBeLessThanOrEqual(330_000);
    expect(new Set(many).size).toBeGreaterThan(1);
    expect(dueAt(schedule, schedule.length, 0)).toBeUndefined();
  });
});

describe('webhook secrets', () => {
  it('generates whsec_ secrets of 24 bytes and refuses malformed ones', () => {
    const secret = newSecret();
    expect(secretProblem(secret)).toBeUndefined();
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
    expect(newSecret()).not.toBe(secret);
    expect(secretProblem('abc')).toMatch(/whsec_/);
    expect(secretProblem('whsec_!!!')).toMatch(/base64/);
    expect(secretProblem('whsec_AAAA')).toMatch(/24 to 64/);
  });

  it('rotation keeps the old secret for the overlap only, newest first', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const first = [{ secret: 'whsec_old', createdAt: '2025-01-01T00:00:00.000Z', expiresAt: null }];
    const rotated = rotate(first, 'whsec_new', now, 3_600_000);
    expect(rotated.map((s) => s.secret)).toEqual(['whsec_new', 'whsec_old']);
    expect(rotated[1]?.expiresAt).toBe('2026-01-01T01:00:00.000Z');
    expect(activeSecrets(rotated, now + 3_599_000).map((s) => s.secret)).toEqual(['whsec_new', 'whsec_old']);
    expect(activeSecrets(rotated, now + 3_600_000).map((s) => s.secret)).toEqual(['whsec_new']);
    // A second rotation never extends an overlap already running; without overlap the old ones go at once.
    const again = rotate(rotated, 'whsec_newer', now + 1000, 86_400_000);
    expect(again.find((s) => s.secret === 'whsec_old')?.expiresAt).toBe('2026-01-01T01:00:00.000Z');
    expect(rotate(rotated, 'whsec_x', now, 0).map((s) => s.secret)).toEqual(['whsec_x']);
  });
});
