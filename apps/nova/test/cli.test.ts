import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli.js';
import { resolveRemoteDependencies, resolveTarget, TargetError } from '../src/modules.js';

describe('command line', () => {
  it('parses start with a target', () => {
    expect(parseCommandLine(['start', '--target=auth'])).toEqual({
      command: 'start',
      options: { target: 'auth' },
    });
  });
  it('parses analytics reconcile|backfill with a day, and refuses anything else', () => {
    expect(parseCommandLine(['analytics', 'reconcile', '--day=2026-11-20'])).toEqual({
      command: 'analytics',
      options: { action: 'reconcile', day: '2026-11-20' },
    });
    expect(parseCommandLine(['analytics', 'backfill', '--day=2026-11-20', '--target=analytics'])).toEqual({
      command: 'analytics',
      options: { action: 'backfill', day: '2026-11-20', target: 'analytics' },
    });
    expect(parseCommandLine(['analytics', 'backfill'])).toHaveProperty('error');
    expect(parseCommandLine(['analytics', 'reconcile', '--day=yesterday'])).toHaveProperty('error');
    expect(parseCommandLine(['analytics', 'purge', '--day=2026-11-20'])).toHaveProperty('error');
    expect(parseCommandLine(['start', '--day=2026-11-20'])).toHaveProperty('error');
  });
  it('parses seed sizes as integers and refuses non-integers', () => {
    expect(parseCommandLine(['seed', '--users=10', '--follows=20', '--seed=7'])).toEqual({
      command: 'seed',
      options: { users: 10, follows: 20, seed: 7 },
    });
    expect(parseCommandLine(['seed', '--users=ten'])).toEqual({
      error: '--users must be a non-negative integer',
    });
  });
  it('refuses unknown commands and flags', () => {
    expect(parseCommandLine(['launch'])).toHaveProperty('error');
    expect(parseCommandLine(['start', '--turbo'])).toHaveProperty('error');
    expect(parseCommandLine(['start', 'extra'])).toHaveProperty('error');
  });
  it('parses backfill with its group and refuses it without one', () => {
    expect(parseCommandLine(['backfill', '--group=feed.follows'])).toEqual({
      command: 'backfill',
      options: { group: 'feed.follows' },
    });
    expect(parseCommandLine(['backfill'])).toHaveProperty('error', 'backfill needs --group');
    expect(parseCommandLine(['backfill', '--group=g', '--all'])).toHaveProperty('error');
    expect(parseCommandLine(['start', '--group=g'])).toHaveProperty('error');
  });
  it('defaults to help', () => {
    expect(parseCommandLine([])).toEqual({ command: 'help', options: {} });
  });
});

describe('module registry', () => {
  it('resolves the all group to every service, dependencies first', () => {
    expect(resolveTarget('all').map((m) => m.name)).toEqual([
      'auth',
      'social',
      'content',
      'messaging',
      'analytics',
      'feed',
      'notifications',
      'live',
    ]);
  });
  it('resolves a comma-separated list without duplicates, in-process dependencies first', () => {
    expect(resolveTarget('social, auth ,social').map((m) => m.name)).toEqual(['auth', 'social']);
  });
  it('runs only the target: a dependency is an API, not a module to pull into the process', () => {
    expect(resolveTarget('social').map((m) => m.name)).toEqual(['social']);
  });
  it('binds a dependency outside the target to its NOVA_<SERVICE>_URL, or refuses clearly', () => {
    expect(resolveRemoteDependencies(resolveTarget('all'), {})).toEqual({});
    expect(resolveRemoteDependencies(resolveTarget('auth'), {})).toEqual({});
    expect(resolveRemoteDependencies(resolveTarget('social'), { auth: 'grpc://auth:50051' })).toEqual({
      auth: 'grpc://auth:50051',
    });
    expect(() => resolveRemoteDependencies(resolveTarget('social'), {})).toThrow(
      /"social" needs the auth API.*--target=social,auth.*NOVA_AUTH_URL/,
    );
  });
  it('binds an optional dependency when it is local or addressed, and goes on without it otherwise', () => {
    // The feed ranks with analytics' rollups when it can (ADR 031).
    const urls = { auth: 'grpc://auth:1', social: 'grpc://social:1', content: 'grpc://content:1' };
    expect(resolveRemoteDependencies(resolveTarget('feed'), urls)).toEqual(urls);
    expect(
      resolveRemoteDependencies(resolveTarget('feed'), { ...urls, analytics: 'http://analytics:8080' }),
    ).toEqual({ ...urls, analytics: 'http://analytics:8080' });
    expect(resolveTarget('feed,analytics').map((m) => m.name)).toEqual(['analytics', 'feed']);
  });
  it('refuses unknown or empty targets', () => {
    expect(() => resolveTarget('search')).toThrow(TargetError);
    expect(() => resolveTarget('gatewayz')).toThrow(/unknown target "gatewayz"/);
    expect(() => resolveTarget(' , ')).toThrow(TargetError);
  });
});
