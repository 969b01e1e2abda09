/**
 * Workers that are not Node (PHP, Python) run as child processes; the test waits for the line that
 * says they are ready and keeps their output, line by line, for the assertions and the record.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's python3 has python3-pika; a python3 earlier on PATH (pyenv, a venv) may not. PYTHON overrides. */
export const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
export const PHP = process.env.PHP ?? 'php';

export interface ForeignProgram {
  name: string;
  child: ChildProcess;
  lines(): string[];
  running(): boolean;
  stop(): Promise<number | null>;
}

export async function startForeignProgram(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<ForeignProgram> {
  const child = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    name,
    child,
    lines: () => out.split('\n').filter(Boolean),
    running: () => child.exitCode === null && child.signalCode === null,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
