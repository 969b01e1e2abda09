/** Optional ability: tells whether the adapter's connection is usable now. */
export interface HealthCheck {
  isHealthy(): Promise<boolean>;
}

/** Optional ability: releases connections. */
export interface Closable {
  close(): Promise<void>;
}
