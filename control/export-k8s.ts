/**
 * Manifests to run the strangler proxy itself in Kubernetes: a ConfigMap with
 * the config (store pointed at Redis, listeners on all interfaces), a
 * Deployment of N replicas sharing that Redis, a Service for the proxy and a
 * separate one for the admin API (flips, metrics: never published beside the
 * proxy). Many replicas need the Redis store: SQLite is one machine's file.
 *
 * Stopping a pod without cutting anyone off: Kubernetes removes a terminating
 * pod from its endpoints while it sends SIGTERM, and kube-proxies and ingresses
 * learn of it a few seconds later. So the pod first sleeps `drain.delay` in
 * preStop (still serving normally while the endpoint removal propagates), then
 * SIGTERM starts the proxy's own drain (not ready, `Connection: close` on every
 * answer for drain.delay, then finish in-flight work within drain.timeout).
 * terminationGracePeriodSeconds covers all three with a margin.
 */
import { Document } from 'yaml';

// Repeated destinations stay spelled out: anchors and aliases confuse people
// and some Kubernetes tooling.
const NO_ALIASES = { aliasDuplicateObjects: false } as const;
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { StranglerError } from '../core/errors.js';
import { parseHostPort } from '../core/host-port.js';

export interface K8sExportOptions {
  namespace?: string;
  /** Resource name and app label; default `strangler`. */
  name?: string;
  image?: string;
  replicas?: number;
  /** Overrides the config's store; required when the config uses SQLite. */
  redisUrl?: string;
  source?: string;
  now?: Date;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIG_DIR = '/etc/strangler';

export function exportK8s(config: Readonly<Config>, opts: K8sExportOptions = {}): string {
  const namespace = opts.namespace ?? 'default';
  const name = opts.name ?? 'strangler';
  const image = opts.image ?? 'strangler:0.1.0';
  const replicas = opts.replicas ?? 3;
  if (!DNS_LABEL.test(namespace))
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--namespace: "${namespace}" is not a Kubernetes namespace name`,
    );
  if (!DNS_LABEL.test(name))
    throw new StranglerError('STRANGLER_E_USAGE', `--name: "${name}" is not a Kubernetes name`);
  if (!Number.isInteger(replicas) || replicas < 1)
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--replicas: expected a whole number >= 1, got ${replicas}`,
    );
  const store = opts.redisUrl ?? config.store;
  if (!store.startsWith('redis://'))
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--redis: the config's store is ${config.store}, but ${replicas} replicas must share one Redis store; give --redis redis://HOST:PORT[/DB]`,
    );
  const proxyPort = parseHostPort(config.listen, 'listen').port || 8080;
  const adminPort = parseHostPort(config.admin.listen, 'admin.listen').port || 9901;

  // Listen on all interfaces inside the pod; the Service decides who reaches it.
  const podConfig = structuredClone(config) as Config;
  podConfig.store = store;
  podConfig.listen = `0.0.0.0:${proxyPort}`;
  podConfig.admin.listen = `0.0.0.0:${adminPort}`;

  const hasPoints = config.routes.some((r) => r.kind === 'function');
  const delayS = Math.ceil(parseDuration(config.drain.delay) / 1000);
  const graceS = delayS + delayS + Math.ceil(parseDuration(config.drain.timeout) / 1000) + 5;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'strangler' };
  const configMap = new Document(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-config`, namespace, labels },
      data: { 'strangler.yaml': new Document(podConfig, NO_ALIASES).toString({ lineWidth: 0 }) },
    },
    NO_ALIASES,
  );
  configMap.commentBefore = [
    ` strangler export k8s — ${(opts.now ?? new Date()).toISOString()}${opts.source ? ` from ${opts.source}` : ''}`,
    ` store: ${store.replace(/\/\/[^@/]*@/, '//***@')} (shared by all ${replicas} replicas: flips reach each within a second)`,
    ...loopbackNotes(config),
  ].join('\n');

  const deployment = new Document(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: {
        replicas,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
        template: {
          metadata: { labels },
          spec: {
            // preStop sleep + the proxy's drain.delay + drain.timeout + 5 s.
            terminationGracePeriodSeconds: graceS,
            containers: [
              {
                name: 'strangler',
                image,
                args: ['serve', '--config', `${CONFIG_DIR}/strangler.yaml`],
                ports: [
                  { name: 'proxy', containerPort: proxyPort },
                  { name: 'admin', containerPort: adminPort },
                ],
                env: [
                  {
                    name: config.admin.tokenEnv,
                    valueFrom: { secretKeyRef: { name: `${name}-admin`, key: 'token', optional: true } },
                  },
                  // Extraction points: without their token the endpoints answer 403 and every point stays local.
                  ...(hasPoints
                    ? [
                        {
                          name: config.points.tokenEnv,
                          valueFrom: {
                            secretKeyRef: { name: `${name}-points`, key: 'token', optional: true },
                          },
                        },
                      ]
                    : []),
                ],
                // Ready once the route table is loaded and legacy and the services that current modes
                // send traffic to (canary/service) answered their probe; not while draining. A declared
                // service no route uses yet does not hold it (proxy/readiness.ts).
                readinessProbe: {
                  httpGet: { path: '/readyz', port: 'admin' },
                  periodSeconds: 2,
                  failureThreshold: 2,
                },
                // Only "the process answers": a store or upstream outage must not restart every replica.
                livenessProbe: {
                  httpGet: { path: '/livez', port: 'admin' },
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
                // The sleep action needs Kubernetes 1.30+ (on older clusters: exec sleep, if the image has one).
                ...(delayS > 0 ? { lifecycle: { preStop: { sleep: { seconds: delayS } } } } : {}),
                volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: `${name}-config` } }],
          },
        },
      },
    },
    NO_ALIASES,
  );
  deployment.commentBefore = [
    ` admin token: kubectl -n ${namespace} create secret generic ${name}-admin --from-literal=token=...  (absent: admin mutations refused)`,
    ...(hasPoints
      ? [
          ` points token: kubectl -n ${namespace} create secret generic ${name}-points --from-literal=token=...  (absent: every extraction point stays local)`,
        ]
      : []),
    ` image ${image}: from a strangler checkout, npm ci && npm pack && docker build -t ${image} .  (the Dockerfile there)`,
  ].join('\n');

  const service = new Document(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels },
      spec: {
        selector: { 'app.kubernetes.io/name': name },
        ports: [{ name: 'proxy', port: proxyPort, targetPort: 'proxy' }],
      },
    },
    NO_ALIASES,
  );
  const adminService = new Document(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${name}-admin`, namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector: { 'app.kubernetes.io/name': name },
        ports: [{ name: 'admin', port: adminPort, targetPort: 'admin' }],
      },
    },
    NO_ALIASES,
  );
  adminService.commentBefore =
    " The admin API (flips, history, metrics) on a Service of its own: keep it ClusterIP, never behind the proxy's ingress.";
  return [configMap, deployment, service, adminService]
    .map((d) => d.toString({ lineWidth: 0 }))
    .join('---\n');
}

function loopbackNotes(config: Readonly<Config>): string[] {
  const ups = [
    ['legacy', config.legacy] as const,
    ...Object.entries(config.services).map(([n, u]) => [`service ${n}`, u] as const),
  ];
  return ups
    .flatMap(([what, u]) => (u.urls ?? [u.url!]).map((url) => [what, url] as const))
    .filter(([, url]) => /^https?:\/\/(localhost|127\.|\[::1\])/.test(url))
    .map(([what, url]) => ` NOTE ${what} is ${url}, a loopback address: inside a pod it is the pod itself`);
}
