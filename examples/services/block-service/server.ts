/**
 * The extracted block-service, standalone:
 *
 *   node dist/examples/services/block-service/server.js --port 0 --db PATH
 *     [--host 127.0.0.1] [--fail-rate 0.2] [--seed 1] [--latency-ms 50] [--differ] [--access-log]
 *
 * Each flag may instead come from the environment: BLOCK_SERVICE_PORT,
 * BLOCK_SERVICE_DB, BLOCK_SERVICE_FAIL_RATE, BLOCK_SERVICE_SEED,
 * BLOCK_SERVICE_LATENCY_MS, BLOCK_SERVICE_DIFFER=1. Prints `LISTENING <port>`
 * once it accepts connections; SIGTERM/SIGINT finish in-flight requests, then exit 0.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { createBlockHandler } from './app.js';
import { openBlockStore } from './blocks.js';

interface Settings {
  host: string;
  port: number;
  db: string;
  failRate: number;
  seed: number;
  latencyMs: number;
  differ: boolean;
  accessLog: boolean;
}

class UsageError extends Error {}

function number(
  flag: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  int: boolean,
) {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n)))
    throw new UsageError(
      `--${flag} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}"`,
    );
  return n;
}

function settingsFrom(argv: string[], env: NodeJS.ProcessEnv): Settings {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        db: { type: 'string' },
        'fail-rate': { type: 'string' },
        seed: { type: 'string' },
        'latency-ms': { type: 'string' },
        differ: { type: 'boolean' },
        'access-log': { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const str = (flag: string, envName: string) => (values[flag] as string | undefined) ?? env[envName];
  const db = str('db', 'BLOCK_SERVICE_DB');
  if (!db) throw new UsageError('--db is required: the monolith SQLite file (or set BLOCK_SERVICE_DB)');
  return {
    host: str('host', 'BLOCK_SERVICE_HOST') ?? '127.0.0.1',
    port: number('port', str('port', 'BLOCK_SERVICE_PORT'), 9000, 0, 65535, true),
    db,
    failRate: number('fail-rate', str('fail-rate', 'BLOCK_SERVICE_FAIL_RATE'), 0, 0, 1, false),
    seed: number('seed', str('seed', 'BLOCK_SERVICE_SEED'), 1, 0, 2 ** 32 - 1, true),
    latencyMs: number('latency-ms', str('latency-ms', 'BLOCK_SERVICE_LATENCY_MS'), 0, 0, 60_000, true),
    differ: Boolean(values.differ) || env.BLOCK_SERVICE_DIFFER === '1',
    accessLog: Boolean(values['access-log']),
  };
}

function main(): void {
  let settings: Settings;
  try {
    settings = settingsFrom(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`block-service: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  let store: ReturnType<typeof openBlockStore>;
  try {
    store = openBlockStore(settings.db);
  } catch (err) {
    process.stderr.write(`block-service: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const server = http.createServer(createBlockHandler(store, settings, () => stopping));
  server.on('error', (err) => {
    process.stderr.write(`block-service: ${err.message}\n`);
    store.close();
    process.exitCode = 1;
  });
  server.listen(settings.port, settings.host, () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`LISTENING ${port}\n`);
  });

  const stop = () => {
    if (stopping) return;
    stopping = true;
    // close() waits for in-flight requests; idle keep-alive sockets would
    // hold it open until their timeout, so close those now.
    server.close(() => {
      store.close();
      process.stderr.write('block-service: stopped\n');
    });
    server.closeIdleConnections();
    // A client that keeps its connection busy must not block shutdown forever.
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
