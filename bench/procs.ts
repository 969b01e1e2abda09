import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { withFreshPorts } from '../test/helpers/ports.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

export interface Proc {
  name: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a process and resolves once a line of its output matches `ready`. */
export async function spawnReady(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp | (() => Promise<boolean>),
): Promise<Proc> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-20_000);
      if (ready instanceof RegExp && ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    if (!(ready instanceof RegExp)) {
      const poll = async () => {
        if (await ready().catch(() => false)) {
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode === null) setTimeout(poll, 100);
      };
      void poll();
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}):\n${out}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    name,
    child,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Starts an HTTP server process on a port picked for it (below the ephemeral range, tried again
 * on another one if it was taken meanwhile); ready once `GET readyPath` answers 200.
 */
export function spawnServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyPath = '/readyz',
): Promise<Proc & { base: string }> {
  return withFreshPorts(1, async ([port]) => {
    const base = `http://127.0.0.1:${port}`;
    const proc = await spawnReady(
      name,
      args,
      { ...env, PORT: String(port) },
      async () => (await fetch(`${base}${readyPath}`)).status === 200,
    );
    return { ...proc, base };
  });
}

/** Runs a process to its end and parses the JSON line it prints. */
export function runJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1);
      try {
        resolve(JSON.parse(line ?? '') as T);
      } catch {
        reject(new Error(`${args.join(' ')} exited ${code}: ${err || out.slice(-2000)}`));
      }
    });
  });
}

function statusMiB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (!pid) return NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** Peak resident memory (VmHWM) of a live process, in MiB. */
export const peakRssMiB = (pid: number | undefined) => statusMiB(pid, 'VmHWM');

/** Resident memory now, in MiB. */
export const currentRssMiB = (pid: number | undefined) => statusMiB(pid, 'VmRSS');

/** System calls (reads and writes: syscr + syscw in /proc/<pid>/io) a process has made so far. */
export function syscalls(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr: (\d+)/.exec(io)?.[1]) + Number(/syscw: (\d+)/.exec(io)?.[1]);
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
