import { type ChildProcess, spawn } from 'node:child_process';

export interface StartedChild {
  child: ChildProcess;
  /** What the child's log line that said it was ready matched. */
  ready: RegExpExecArray;
  /** Everything the child wrote so far, stdout and stderr together. */
  output(): string;
  running(): boolean;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** True once stop() was called: any exit before that is a crash. */
  readonly stopping: boolean;
  /** Sends the signal (a frozen child is woken first, so it can act on it) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns a program and resolves once its output matches `ready`; rejects with its output if it
 * exits first or takes longer than `timeoutMs` (then it is killed).
 */
export async function startChild(options: {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  ready: RegExp;
  timeoutMs?: number;
}): Promise<StartedChild> {
  const { name, ready, timeoutMs = 20_000 } = options;
  const child = spawn(options.command, options.args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const found = ready.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be started: ${err.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`));
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  let stopping = false;
  return {
    child,
    ready: match,
    output: () => out,
    running,
    exited,
    get stopping() {
      return stopping;
    },
    stop: (signal = 'SIGTERM') => {
      stopping = true;
      if (running()) {
        child.kill('SIGCONT');
        child.kill(signal);
      }
      return exited;
    },
  };
}
