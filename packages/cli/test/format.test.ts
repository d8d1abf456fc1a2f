import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatTime } from '../src/output';

describe('one way to show dates, sizes and durations', () => {
  it('times are UTC, to the second, labelled', () => {
    expect(formatTime('2026-12-07T03:40:02.123Z')).toBe('2026-12-07 03:40:02 UTC');
    expect(formatTime('2026-12-07T04:40:02+01:00')).toBe('2026-12-07 03:40:02 UTC');
    expect(formatTime(null)).toBe('');
  });
  it('sizes are in binary units with one decimal', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
  it('durations are seconds with one decimal', () => {
    expect(formatDuration(12_345)).toBe('12.3s');
  });
});
