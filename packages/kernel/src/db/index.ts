export * from './bulk-load.js';
export type * from './database.js';
export { KERNEL_MIGRATIONS, type KernelMigration } from './kernel-migrations.js';
export * from './migrations.js';
export * from './provider.js';
export * from './schema-of.js';
export * from './sql-values.js';
export * from './table-refs.js';
export * from './transaction.js';
