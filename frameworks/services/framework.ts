// Placeholder while the scheduler is written: the factory's shape is fixed in index.ts.
import { AgoraError } from '../../core/errors.js';
import type { ServicesHandle, ServicesOptions } from './options.js';

export class ServicesFramework {
  static async start(_options: ServicesOptions): Promise<ServicesHandle> {
    throw new AgoraError('AGORA_UNIMPLEMENTED', 'the services framework is being written');
  }
}
