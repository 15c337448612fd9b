import { type Command, InvalidArgumentError } from 'commander';
import type { CliIO } from '../io.js';

interface CommonOpts {
  config: string;
  namespace?: string;
  out?: string;
}

async function emit(io: CliIO, out: string | undefined, text: string): Promise<void> {
  if (!out) {
    io.stdout.write(text);
    return;
  }
  const path = await import('node:path');
  const { writeFileSync } = await import('node:fs');
  const file = path.resolve(io.cwd, out);
  writeFileSync(file, text);
  io.stderr.write(`wrote ${file}\n`);
}

export function register(program: Command, io: CliIO): void {
  const exp = program
    .command('export')
    .description('hand the route table to a mesh, or deploy the proxy itself');
  exp
    .command('istio')
    .description(
      'write Istio VirtualService and DestinationRule YAML for the current route modes;\n' +
        'what has no mesh equivalent (diffing, noise learning, failover to legacy) is listed as comments',
    )
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('-n, --namespace <ns>', 'Kubernetes namespace', 'default')
    .option('-o, --out <file>', 'write here instead of stdout')
    .action(async (opts: CommonOpts) => {
      const { withStore, configPath } = await import('../context.js');
      const { exportIstio } = await import('../../control/export-istio.js');
      const text = await withStore(io, opts.config, async ({ config, store }) =>
        exportIstio(config, await store.routes.list(), {
          namespace: opts.namespace,
          source: configPath(io, opts.config),
        }),
      );
      await emit(io, opts.out, text);
    });
  exp
    .command('grafana')
    .description(
      'write a Grafana dashboard (JSON) over the metrics the admin /metrics exports:\n' +
        'routes by mode, requests and errors per target, latency, shadow match rate, failovers, breakers, rate limits',
    )
    .option('-o, --out <file>', 'write here instead of stdout')
    .option('--title <title>', 'dashboard title', 'strangler: migration')
    .option('--uid <uid>', 'dashboard uid', 'strangler')
    .option(
      '-c, --config <file>',
      'config file: checked (a script may pass --config to every command); the dashboard itself needs none',
    )
    .action(async (opts: { out?: string; title: string; uid: string; config?: string }) => {
      // The dashboard is the same for every config (its route list is a
      // Prometheus variable); a given config is still read, so a wrong path fails here too.
      if (opts.config !== undefined) {
        const { loadConfig } = await import('../../core/config.js');
        const { configPath } = await import('../context.js');
        loadConfig(configPath(io, opts.config));
      }
      const { exportGrafana } = await import('../../control/export-grafana.js');
      await emit(io, opts.out, exportGrafana({ title: opts.title, uid: opts.uid }));
    });
  exp
    .command('k8s')
    .description('write a ConfigMap, Deployment and Service running the proxy with a shared Redis store')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('-n, --namespace <ns>', 'Kubernetes namespace', 'default')
    .option('-o, --out <file>', 'write here instead of stdout')
    .option('--name <name>', 'resource name', 'strangler')
    .option('--image <image>', 'container image with strangler installed', 'strangler:0.1.0')
    .option(
      '--replicas <n>',
      'proxy replicas',
      (v) => {
        if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('expected a whole number >= 1');
        return Number(v);
      },
      3,
    )
    .option('--redis <url>', 'redis://HOST:PORT[/DB] the replicas share (default: the config store)')
    .action(async (opts: CommonOpts & { name: string; image: string; replicas: number; redis?: string }) => {
      const { configPath } = await import('../context.js');
      const { loadConfig } = await import('../../core/config.js');
      const { exportK8s } = await import('../../control/export-k8s.js');
      const file = configPath(io, opts.config);
      // No store access: the manifests come from the config alone.
      const text = exportK8s(loadConfig(file), {
        namespace: opts.namespace,
        name: opts.name,
        image: opts.image,
        replicas: opts.replicas,
        redisUrl: opts.redis,
        source: file,
      });
      await emit(io, opts.out, text);
    });
}
