/**
 * The shipped deployment files (issue 15, item 4): deploy/weir.yaml passes `weir check`; the
 * Kubernetes manifests parse and agree with each other and with the config (labels, ports, the
 * Secret's keys, the ConfigMap's file, probes, grace period); the Dockerfile and the systemd unit
 * run what the config needs. Docker and a cluster are not available here: these are the checks
 * that can fail without them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration, readYaml } from '@weir/kernel';
import { defaultWeirBin } from '@weir/testkit';
import { run } from './helpers.js';

const root = path.resolve(__dirname, '..');
const text = (f: string) => readFileSync(path.join(root, f), 'utf8');
const yaml = (f: string): any => readYaml(text(f), f).doc.toJS();
const k8s = (f: string): any => yaml(`deploy/kubernetes/${f}`);

const config = yaml('deploy/weir.yaml');
const deployment = k8s('deployment.yaml');
const pod = deployment.spec.template;
const container = pod.spec.containers[0];
const secret = k8s('secret.yaml');
const shutdownMs = parseDuration(config.general.shutdown_timeout)!;
/** ${VAR} without a default: the deployment must provide each. */
const required = [...text('deploy/weir.yaml').replace(/#.*$/gm, '').matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!);

const subset = (sel: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(sel).every(([k, v]) => labels[k] === v);

describe('deploy/weir.yaml', () => {
  const check = (env: NodeJS.ProcessEnv) => run(process.execPath, [defaultWeirBin(), 'check', '--config', path.join(root, 'deploy/weir.yaml')], { env });

  it('passes weir check with its secrets in the environment', async () => {
    const env = Object.fromEntries(required.map((v) => [v, 'secret-value']));
    const r = await check(env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok \(1 pool; plugins: prepared_statements\)/);
  });

  it('names a secret that is missing', async () => {
    expect(process.env.WEIR_APP_PASSWORD).toBeUndefined();
    const r = await check({ WEIR_ADMIN_PASSWORD: 'x' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('WEIR_APP_PASSWORD');
  });
});

describe('deploy/kubernetes', () => {
  it('kustomization lists every manifest', () => {
    const files = readdirSync(path.join(root, 'deploy/kubernetes')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...k8s('kustomization.yaml').resources].sort()).toEqual(files.sort());
  });

  it('the ConfigMap carries deploy/weir.yaml unchanged, mounted where weir reads it', () => {
    const cm = k8s('configmap.yaml');
    expect(cm.data['weir.yaml']).toBe(text('deploy/weir.yaml'));
    const volume = pod.spec.volumes.find((v: any) => v.configMap?.name === cm.metadata.name);
    expect(volume).toBeDefined();
    const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
    const configArg = container.args[container.args.indexOf('--config') + 1];
    expect(container.args[0]).toBe('start');
    expect(configArg).toBe(`${mount.mountPath}/weir.yaml`);
  });

  it('every secret the config needs comes from the Secret, by a key it has', () => {
    expect(required).toEqual(['WEIR_ADMIN_PASSWORD', 'WEIR_APP_PASSWORD']);
    const env = new Map<string, any>(container.env.map((e: any) => [e.name, e]));
    for (const v of required) {
      const ref = env.get(v)?.valueFrom?.secretKeyRef;
      expect(ref, v).toBeDefined();
      expect(ref.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(ref.key);
    }
  });

  it('selectors match the pods; ports and probes match the config', () => {
    const labels = pod.metadata.labels;
    expect(subset(deployment.spec.selector.matchLabels, labels)).toBe(true);
    expect(subset(k8s('service.yaml').spec.selector, labels)).toBe(true);
    expect(subset(k8s('pdb.yaml').spec.selector.matchLabels, labels)).toBe(true);
    const ports = new Map<string, number>(container.ports.map((p: any) => [p.name, p.containerPort]));
    expect(ports.get('postgres')).toBe(config.general.port);
    expect(ports.get('metrics')).toBe(config.general.metrics_port);
    for (const p of k8s('service.yaml').spec.ports) expect(ports.has(p.targetPort), p.targetPort).toBe(true);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(config.general.metrics_host).toBe('0.0.0.0'); // probes come from the kubelet, not loopback
    expect(config.general.host).toBe('0.0.0.0');
    expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(config.general.metrics_port));
  });

  it('a rollout drains: no pod down before its replacement, grace longer than shutdown_timeout and preStop', () => {
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(k8s('pdb.yaml').spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownMs + preStop * 1000);
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
  });
});

describe('Dockerfile and systemd unit', () => {
  const docker = text('Dockerfile');
  const unit = text('deploy/systemd/weir.service');

  it('the image runs weir as a non-root user on the shipped config, with a health check', () => {
    expect(docker).toMatch(/^FROM \S+ AS build$/m);
    expect(docker).toMatch(/^USER (?!root\b)\S+$/m);
    expect(docker).toContain('COPY deploy/weir.yaml /etc/weir/weir.yaml');
    expect(docker).toMatch(/^CMD \["start", "--config", "\/etc\/weir\/weir.yaml"\]$/m);
    expect(docker).toContain(`http://127.0.0.1:${config.general.metrics_port}/healthz`);
    expect(docker).toMatch(new RegExp(`^EXPOSE ${config.general.port} ${config.general.metrics_port}$`, 'm'));
    expect(docker).toMatch(/^STOPSIGNAL SIGTERM$/m);
    // What the image starts is what the build makes.
    expect(docker).toContain('/app/packages/weir/dist/cli.js');
  });

  it('systemd: reload is SIGHUP, stop waits out the drain, enough descriptors', () => {
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toMatch(/^ExecStart=.*cli\.js start --config \/etc\/weir\/weir\.yaml$/m);
    expect(unit).toMatch(/^ExecStartPre=.*cli\.js check --config \/etc\/weir\/weir\.yaml$/m);
    expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]) * 1000).toBeGreaterThan(shutdownMs);
    expect(Number(/^LimitNOFILE=(\d+)$/m.exec(unit)![1])).toBeGreaterThanOrEqual(2 * config.general.max_client_conn);
    expect(unit).toMatch(/^User=(?!root\b)\S+$/m);
  });
});
