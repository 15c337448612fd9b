/**
 * The admin API's bearer token, read from the environment variable the config
 * names. A short token can be found by trying (the admin API answers every
 * guess), so `serve` refuses one below MIN_ADMIN_TOKEN_LENGTH before anything
 * listens, rather than run with an admin door that only looks locked.
 */
import type { Config } from '../core/config.js';
import { StranglerError } from '../core/errors.js';

export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** The token, or undefined when unset (mutations are then refused); throws STRANGLER_E_CONFIG when too short. */
export function readAdminToken(
  env: NodeJS.ProcessEnv,
  config: Pick<Readonly<Config>, 'admin'>,
): string | undefined {
  const name = config.admin.tokenEnv;
  const token = env[name] || undefined;
  if (token !== undefined && token.length < MIN_ADMIN_TOKEN_LENGTH)
    throw new StranglerError(
      'STRANGLER_E_CONFIG',
      `${name}: the admin token has ${token.length} characters; use at least ${MIN_ADMIN_TOKEN_LENGTH} ` +
        '(a short token can be guessed by trying). Make one with: ' +
        `node -e "console.log(require('node:crypto').randomBytes(24).toString('base64url'))"`,
      { details: { field: name, length: token.length, min: MIN_ADMIN_TOKEN_LENGTH } },
    );
  return token;
}
