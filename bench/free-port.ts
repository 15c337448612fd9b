/**
 * A loopback port free right now, for a child that cannot listen on 0 and
 * report the port it got (nginx, redis-server). The benches and the tests'
 * redis-server helper share it.
 */
import { type AddressInfo, createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
