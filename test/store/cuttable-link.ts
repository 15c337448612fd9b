/**
 * A loopback TCP forwarder to Redis that a test can cut and heal, so ONE
 * store instance loses Redis while others keep it (a network partition),
 * which stopping redis-server itself cannot show.
 */
import net from 'node:net';

export interface CuttableLink {
  readonly port: number;
  /** Drop every open connection and refuse new ones (accept, then destroy). */
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startLink(targetPort: number): Promise<CuttableLink> {
  let up = true;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      up = false;
      for (const s of open) s.destroy();
      open.clear();
    },
    heal() {
      up = true;
    },
    async close() {
      up = false;
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
