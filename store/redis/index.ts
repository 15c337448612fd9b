import { StranglerError } from '../../core/errors.js';
import type { Store } from '../types.js';

// Replaced by the Redis implementation (issue 7); until then a redis:// store
// is refused with a clear error rather than half-working.
export async function openRedisStore(url: string): Promise<Store> {
  throw new StranglerError('STRANGLER_E_STORE', `${url}: the Redis store is not available in this build`);
}
