/**
 * Values as ClickHouse SQL literals. The server this project supports back
 * to (18.16) has no query parameters, so every value in a statement goes
 * through here: strings quoted with backslash escapes, dates as UTC
 * 'YYYY-MM-DD hh:mm:ss', numbers checked finite.
 */
export function str(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function strList(values: readonly string[]): string {
  return values.length === 0 ? "('')" : `(${values.map(str).join(', ')})`;
}

const UTC_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/**
 * A DateTime column's text form (second precision, UTC). A UTC ISO string
 * (what toISOString() wrote into the log) is cut, not parsed: the sink does
 * this for every client event.
 */
export function dateTimeText(at: Date | number | string): string {
  if (typeof at === 'string' && UTC_ISO.test(at)) return `${at.slice(0, 10)} ${at.slice(11, 19)}`;
  return new Date(at).toISOString().slice(0, 19).replace('T', ' ');
}

export function dateTime(at: Date | number | string): string {
  return `toDateTime(${str(dateTimeText(at))}, 'UTC')`;
}

/** A 'YYYY-MM-DD' day literal (toDate). */
export function day(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new RangeError(`not a day: ${value}`);
  return `toDate(${str(value)})`;
}

export function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  return String(value);
}
