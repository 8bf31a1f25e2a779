export type * from './database.js';
export { KERNEL_MIGRATIONS, type KernelMigration } from './kernel-migrations.js';
export * from './migrations.js';
export * from './provider.js';
export * from './schema-of.js';
