/**
 * Workers that are not Node (PHP, Python) run as child processes; the test waits for the line that
 * says they are ready and keeps their output, line by line, for the assertions and the record.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startChild } from './child.js';

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
  const started = await startChild({ name, command, args, env: { PATH: process.env.PATH, ...env }, ready, timeoutMs });
  return {
    name,
    child: started.child,
    lines: () => started.output().split('\n').filter(Boolean),
    running: started.running,
    stop: () => started.stop('SIGTERM'),
  };
}
