/**
 * Picks the data plane: `virtual`, `linux`, or `auto` (linux when root on Linux with the
 * tools it needs, virtual otherwise, saying why).
 */
import { NimbusError } from '../core/errors.js';
import type { Dataplane } from './driver.js';
import { VirtualDataplane } from './virtual/driver.js';

export type DataplaneChoice = 'auto' | 'virtual' | 'linux';

export interface DataplaneOptions {
  dataDir: string;
  prefix?: string;
}

export async function chooseDataplane(choice: DataplaneChoice, _opts: DataplaneOptions): Promise<Dataplane> {
  if (choice === 'virtual') return new VirtualDataplane('chosen with --dataplane virtual');
  if (choice === 'linux') {
    throw new NimbusError('Dataplane.Unavailable', 'the linux data plane is not built yet');
  }
  return new VirtualDataplane('auto: the linux data plane is not built yet');
}
