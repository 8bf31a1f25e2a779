import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNovaCommand } from './harness.js';

// Operator commands run as an operator runs them: a process against a data dir.
const dirs: string[] = [];
const freshDataDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nova-ops-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const PRODUCTION_KEYS = {
  AUTH_SIGNING_KEYS: JSON.stringify([{ kty: 'OKP', crv: 'Ed25519', d: 'x', x: 'y' }]),
  AUTH_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

// A fresh process boots PGlite and loads a population: well over a minute on a loaded machine.
describe('nova seed', { timeout: 240_000 }, () => {
  it('refuses to run with NOVA_ENV=production and touches nothing', async () => {
    const dataDir = freshDataDir();
    const { code, stderr, stdout } = await runNovaCommand(['seed', '--users=10'], {
      NOVA_ENV: 'production',
      NOVA_DATA_DIR: dataDir,
      ...PRODUCTION_KEYS,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('seed refuses to run with NOVA_ENV=production');
    expect(stdout).not.toContain('seeded');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('still seeds outside production', async () => {
    const { code, stdout } = await runNovaCommand(['seed', '--users=10', '--follows=20'], {
      NOVA_ENV: 'development',
      NOVA_DATA_DIR: freshDataDir(),
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/seeded 10 accounts, 10 profiles and \d+ follows/);
  });
});

// Each command boots the target's modules in a fresh process: seconds each on a busy machine.
describe('nova dlq', { timeout: 240_000 }, () => {
  const adminUrl = process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `nova_e2e_dlq_${randomUUID().slice(0, 8)}`;
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  let db: pg.Client;
  const env = () => ({ NOVA_ENV: 'development', DATABASE_URL: url, NOVA_DATA_DIR: freshDataDir() });
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await admin(`create database ${name}`);
    const migrated = await runNovaCommand(['migrate'], env());
    expect(migrated.code, migrated.stderr).toBe(0);
    db = new pg.Client({ connectionString: url });
    await db.connect();
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await admin(`drop database if exists ${name} with (force)`);
  });

  /**
   * What the re-registration bug left behind before it was fixed: a
   * user.registered dead-lettered by social.users (the letter plus its
   * processed record, as the consumer runtime writes them), and no profile.
   */
  const deadLetteredRegistration = async () => {
    const userId = randomUUID();
    const username = `redriven_${userId.slice(0, 8)}`;
    const letterId = randomUUID();
    const eventId = randomUUID();
    await db.query('insert into social.processed_events (group_id, event_id) values ($1, $2)', [
      'social.users',
      eventId,
    ]);
    await db.query(
      `insert into social.dead_letters (id, group_id, topic, event_id, key, type, payload, reason, attempts)
       values ($1, 'social.users', 'nova.auth.user.v1', $2, $3, 'user.registered', $4, $5, 1)`,
      [
        letterId,
        eventId,
        userId,
        JSON.stringify({ userId, username, createdAt: new Date().toISOString() }),
        'error: duplicate key value violates unique constraint "profiles_username_ci"',
      ],
    );
    return { userId, username, letterId };
  };
  const profiles = async (userId: string) =>
    (await db.query('select username from social.profiles where id = $1', [userId])).rows;

  it('lists dead letters per group with id, type, reason, attempts and time', async () => {
    const { letterId } = await deadLetteredRegistration();
    const listed = await runNovaCommand(['dlq', 'list'], env());
    expect(listed.code, listed.stderr).toBe(0);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(letterId));
    expect(line).toMatch(
      /social\.users\s+user\.registered\s+1\s+\d{4}-\d\d-\d\dT\S+Z\s+error: duplicate key/,
    );
    const json = await runNovaCommand(['dlq', 'list', '--group=social.users', '--json'], env());
    expect(JSON.parse(json.stdout)).toContainEqual(
      expect.objectContaining({ id: letterId, group: 'social.users', type: 'user.registered', attempts: 1 }),
    );
    const none = await runNovaCommand(['dlq', 'list', '--group=auth.mailer'], env());
    expect(none.stdout).toBe('no dead letters\n');
    const unknown = await runNovaCommand(['dlq', 'list', '--group=feed.timeline'], env());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no consumer group "feed.timeline"');
  });

  it('redrives one letter: the profile appears, exactly once, and the letter is gone', async () => {
    const { userId, username, letterId } = await deadLetteredRegistration();
    expect(await profiles(userId)).toEqual([]);
    const redriven = await runNovaCommand(
      ['dlq', 'redrive', '--group=social.users', `--id=${letterId}`],
      env(),
    );
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(redriven.stdout).toContain(`${letterId}  processed`);
    expect(await profiles(userId)).toEqual([{ username }]);
    const again = await runNovaCommand(['dlq', 'redrive', '--group=social.users', `--id=${letterId}`], env());
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`${letterId}  gone`);
    expect(await profiles(userId)).toEqual([{ username }]);
  });

  it('redrives every letter of a group with --all, and refuses an ambiguous selection', async () => {
    const letters = [await deadLetteredRegistration(), await deadLetteredRegistration()];
    const all = await runNovaCommand(['dlq', 'redrive', '--group=social.users', '--all'], env());
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/social\.users: \d+ redriven \(\d+ processed, 0 ignored, 0 failed, 0 gone\)/);
    for (const { userId, username } of letters) expect(await profiles(userId)).toEqual([{ username }]);
    expect(
      (await db.query("select count(*)::int as n from social.dead_letters where group_id = 'social.users'"))
        .rows,
    ).toEqual([{ n: 0 }]);
    for (const args of [['dlq', 'redrive', '--all'], ['dlq', 'redrive', '--group=social.users'], ['dlq']]) {
      const refused = await runNovaCommand(args, env());
      expect(refused.code, args.join(' ')).toBe(2);
    }
  });
});

// Two fresh processes (migrate, then the command) on an embedded data dir: PGlite and chDB.
describe('nova analytics', { timeout: 240_000 }, () => {
  it('reconciles and backfills a day in the all-in-one shape, and refuses a malformed day', async () => {
    const env = { NOVA_ENV: 'development', NOVA_DATA_DIR: freshDataDir(), LOG_LEVEL: 'warn' };
    expect((await runNovaCommand(['migrate'], env)).code).toBe(0);
    const reconciled = await runNovaCommand(['analytics', 'reconcile', '--day=2026-11-20'], env);
    expect(reconciled.code).toBe(0);
    expect(reconciled.stdout).toMatch(/^2026-11-20\nKIND\s+SOURCE\s+STORE\s+DRIFT\npost\s+0\s+0\s+0\n/);
    const filled = await runNovaCommand(['analytics', 'backfill', '--day=2026-11-20', '--json'], env);
    expect(filled.code).toBe(0);
    expect(JSON.parse(filled.stdout)).toMatchObject({ day: '2026-11-20', written: 0, removed: 0 });
    const malformed = await runNovaCommand(['analytics', 'backfill', '--day=20-11-2026'], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('analytics backfill needs --day=YYYY-MM-DD');
  });
});
