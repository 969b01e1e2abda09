/**
 * Where Relay's CPU goes under load: two web processes and a worker run with `--cpu-prof` while
 * clients in a closed loop submit `echo` jobs on one web and follow them on the other. Prints each
 * process's heaviest functions (self time) and its time by package, from the V8 CPU profiles.
 *
 *   npm run bench:profile [-- seconds clients] [--markdown]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from '../test/helpers/brokers.js';
import { relayEnv } from '../test/helpers/processes.js';
import { cpuMs, runJson, spawnReady, spawnServer, syscalls } from './procs.js';
import { summarize } from './stats.js';

const markdown = process.argv.includes('--markdown');
const [seconds = 10, clients = 64] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'))
  .map(Number);
const out: string[] = [];
/** In markdown, each summary line is an item of a list, so the lines stay apart. */
const print = (line: string) => (markdown ? out.push(/^(#|-|By package|$)/.test(line) ? line : `- ${line}`) : console.log(line));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per package of one profile, heaviest first. */
function profileTops(file: string, limit = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, share: us / total }));
  return { totalMs: total / 1000, functions: top(functions), packages: top(packages) };
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*?\/dist\//, '').replace(/^file:\/\//, '');
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return /\/dist\/([^/]+)/.exec(url)?.[1] ? `relay ${/\/dist\/([^/]+)/.exec(url)![1]}/` : url;
}

/** The oldest process of that name (the shared broker, not one a test started). */
function pidOf(name: string): number | undefined {
  try {
    return Number(execFileSync('pgrep', ['-o', '-x', name]).toString().trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-profile-'));
  const vhost = await createVhost('profile');
  const prefix = testRedisPrefix('profile');
  const env = { ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }), LOG_LEVEL: 'warn' };
  const prof = (name: string) => ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, name)}`];
  const a = await spawnServer('web-a', [...prof('web-a'), 'dist/server/main.js'], env);
  const b = await spawnServer('web-b', [...prof('web-b'), 'dist/server/main.js'], env);
  const procs = [
    a,
    b,
    await spawnReady(
      'worker',
      [...prof('worker'), 'dist/consumer/main.js'],
      { ...env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '64' },
      /worker consuming/,
    ),
  ];
  try {
    const redis = new Redis(REDIS_BASE_URL);
    await redis.config('RESETSTAT');
    const brokers = { rabbitmq: pidOf('beam.smp'), redis: pidOf('redis-server') };
    const brokersBefore = Object.values(brokers).map(cpuMs);
    const before = procs.map((p) => cpuMs(p.child.pid));
    const callsBefore = procs.map((p) => syscalls(p.child.pid));
    const result = await runJson<{
      sent: number;
      completed: number;
      failures: number;
      latencies: number[];
      elapsedSeconds: number;
      cpuMs: number;
    }>(['--import', 'tsx', 'bench/load-client.ts', JSON.stringify({ mode: 'relay', submit: a.base, stream: b.base, clients, seconds })]);
    const n = result.completed;
    const cpu = [
      ...procs.map((p, i) => `${p.name} ${((cpuMs(p.child.pid) - before[i]!) / n).toFixed(2)}`),
      ...Object.entries(brokers).map(([name, pid], i) => `${name} ${((cpuMs(pid) - brokersBefore[i]!) / n).toFixed(2)}`),
      `load client ${(result.cpuMs / n).toFixed(2)}`,
    ];
    const calls = procs.map((p, i) => `${p.name} ${((syscalls(p.child.pid) - callsBefore[i]!) / n).toFixed(1)}`);
    const stats = await redis.info('commandstats');
    redis.disconnect();
    const commands = [...stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)]
      .map(([, cmd, count]) => [cmd!, Number(count) / n] as const)
      .filter(([cmd, perJob]) => perJob >= 0.05 && cmd !== 'config' && cmd !== 'info')
      .sort((x, y) => y[1] - x[1]);
    const s = summarize(result.latencies);
    print(
      `${clients} clients, ${seconds} s: ${result.completed}/${result.sent} done, ${(result.completed / result.elapsedSeconds).toFixed(0)} jobs/s, p50 ${s.p50.toFixed(1)} p99 ${s.p99.toFixed(1)} ms${result.failures ? `, ${result.failures} failed` : ''}`,
    );
    print(`ms CPU per job: ${cpu.join(', ')}`);
    print(`system calls (read + write) per job: ${calls.join(', ')}`);
    print(`Redis commands per job: ${commands.map(([cmd, perJob]) => `${cmd} ${perJob.toFixed(2)}`).join(', ')}`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await vhost.remove();
    await deleteRedisPrefix(prefix);
  }
  for (const name of ['web-a', 'web-b', 'worker']) {
    const files = readdirSync(path.join(dir, name)).filter((f) => f.endsWith('.cpuprofile'));
    for (const f of files) {
      const tops = profileTops(path.join(dir, name, f));
      print('');
      print(`${markdown ? '### ' : '## '}${name} (${tops.totalMs.toFixed(0)} ms sampled${markdown ? '' : `; ${path.join(dir, name, f)}`})`);
      print('');
      print(`By package: ${tops.packages.map((p) => `${p.name} ${(p.share * 100).toFixed(1)}%`).join(', ')}.`);
      print('');
      for (const fn of tops.functions) print(`${markdown ? '- ' : '  '}${(fn.share * 100).toFixed(1)}% ${fn.name}`);
    }
  }
  if (markdown) {
    const revision = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.resolve(import.meta.dirname, '..') })
      .toString()
      .trim();
    console.log(
      [
        `## CPU profile of Relay under load (${revision})`,
        '',
        `\`npm run bench:profile -- ${seconds} ${clients}\`: both web processes and the worker under \`--cpu-prof\` while ${clients} clients in a closed loop submit \`echo\` jobs on one web and follow them on the other; self time of the heaviest functions (\`(idle)\` is time waiting; \`writev\`, \`writeUtf8String\` and \`writeBuffer\` are socket writes, mostly the system call).`,
        '',
        ...out,
      ].join('\n'),
    );
  }
}

await main();
process.exit(0);
