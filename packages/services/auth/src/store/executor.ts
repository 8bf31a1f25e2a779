import type { Kysely } from 'kysely';
import type { AuthDb } from './schema.js';

/** A database handle or a transaction: repositories work on either. */
export type Executor = Kysely<AuthDb>;
