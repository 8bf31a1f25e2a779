import { describe, expect, it } from 'vitest';
import { dateTimeText } from '../src/warehouse/sql-literals.js';

describe('dateTimeText', () => {
  it('cuts a UTC ISO string and converts anything else through a Date, to the same second', () => {
    expect(dateTimeText('2026-12-03T12:34:56.789Z')).toBe('2026-12-03 12:34:56');
    expect(dateTimeText('2026-12-03T12:34:56Z')).toBe('2026-12-03 12:34:56');
    expect(dateTimeText('2026-12-03T13:34:56.789+01:00')).toBe('2026-12-03 12:34:56');
    expect(dateTimeText(Date.parse('2026-12-03T12:34:56.789Z'))).toBe('2026-12-03 12:34:56');
    expect(dateTimeText(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31 23:59:59');
  });
});
