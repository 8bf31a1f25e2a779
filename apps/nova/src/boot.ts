import { NOVA_CONTRACTS } from '@nova/contracts';
import { createKafkaEventLog } from '@nova/kafka';
import type { Config, Logger } from '@nova/kernel';
import { type BootedModules, bootModules } from '@nova/kernel/boot';
import { createS3BlobStore } from '@nova/s3';
import { REGISTRY } from './modules.js';

export type BootedNova = BootedModules;

export interface BootOptions {
  /** Run pending migrations first (default: in the all-in-one shape only). */
  migrate?: boolean;
}

/**
 * The binary's composition: the kernel's boot (the same code the test
 * harness runs) with this binary's modules and the engine adapters it ships.
 */
export function bootNova(config: Config, logger: Logger, options: BootOptions = {}): Promise<BootedNova> {
  return bootModules({
    config,
    logger,
    registry: REGISTRY,
    contracts: NOVA_CONTRACTS,
    // Engine adapters this binary ships; configuration picks one (KAFKA_BROKERS, S3_BUCKET).
    adapters: { kafka: createKafkaEventLog, s3: createS3BlobStore },
    ...(options.migrate !== undefined ? { migrate: options.migrate } : {}),
  });
}
