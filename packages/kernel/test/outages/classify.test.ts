import { describe, expect, it } from 'vitest';
import { ConflictError, UnavailableError, unavailableFrom } from '../../src/index.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('unavailableFrom: which failures are outages', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), undefined],
    ['admin shutdown', withCode('terminating connection', '57P01'), undefined],
    ['a connection exception class', withCode('connection failure', '08006'), undefined],
    ['statement_timeout', withCode('canceling statement due to statement timeout', '57014'), undefined],
    ['too many connections', withCode('sorry, too many clients', '53300'), undefined],
    ['Redis still loading its dataset', reply('LOADING Redis is loading the dataset in memory'), undefined],
    ['a pool acquire timeout', new Error('timeout exceeded when trying to connect'), undefined],
    ['a closed PGlite', new Error('PGlite is closed'), 'pglite'],
    ['any plain connection failure at the Redis boundary', new Error('Connection is closed.'), 'redis'],
    ['any plain connection failure at the PostgreSQL boundary', new Error('socket hang up'), 'postgres'],
  ] as const)('%s is unavailable', (_name, error, source) => {
    const classified = unavailableFrom(error, source);
    expect(classified).toBeInstanceOf(UnavailableError);
    expect(classified?.cause).toBe(error);
  });

  it.each([
    ['a unique violation', withCode('duplicate key', '23505'), 'postgres'],
    ['a syntax error', withCode('syntax error', '42601'), 'postgres'],
    ['a Redis type error reply', reply('WRONGTYPE Operation against a key'), 'redis'],
    ['a bug (TypeError) at a boundary', new TypeError('x is not a function'), 'postgres'],
    ['a plain error with no source', new Error('something broke'), undefined],
    ['a non-error value', 'oops', undefined],
  ] as const)('%s is not', (_name, error, source) => {
    expect(unavailableFrom(error, source)).toBeUndefined();
  });

  it('keeps Nova errors as they are', () => {
    const unavailable = new UnavailableError();
    expect(unavailableFrom(unavailable)).toBe(unavailable);
    expect(unavailableFrom(new ConflictError('taken', 'Taken.'))).toBeUndefined();
  });

  it('an AggregateError of refused addresses (localhost on ::1 and 127.0.0.1) is unavailable', () => {
    const error = new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')]);
    expect(unavailableFrom(error)).toBeInstanceOf(UnavailableError);
  });
});
