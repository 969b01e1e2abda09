import type { RegisteredUser, UserStore } from './user-store.js';

export class MemoryUserStore implements UserStore {
  private readonly byEmail = new Map<string, RegisteredUser & { jobId: string }>();

  async register(jobId: string, name: string, email: string): Promise<RegisteredUser | 'taken'> {
    const key = email.toLowerCase();
    const existing = this.byEmail.get(key);
    if (existing && existing.jobId !== jobId) return 'taken';
    const user = existing ?? { user_id: crypto.randomUUID(), name, email, jobId };
    this.byEmail.set(key, user);
    return { user_id: user.user_id, name: user.name, email: user.email };
  }
}
