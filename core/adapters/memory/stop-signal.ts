import type { StopSignal } from '../../ports/index.js';

/** The embedded mode's stop requests: a direct call, web and worker share the process. */
export class MemoryStopSignal implements StopSignal {
  private listener: (jobId: string) => void = () => {};

  async send(jobId: string): Promise<void> {
    this.listener(jobId);
  }

  onStop(listener: (jobId: string) => void): void {
    this.listener = listener;
  }
}
