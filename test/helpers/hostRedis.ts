import { execFileSync } from 'node:child_process';

/**
 * Whether Debian's redis-server is on this host (`.ci/run` installs it): tests of real RDB files
 * and replication need it. Without it they are skipped (their names say "redis-server on the
 * host"); under ORKESTRA_TEST_REQUIRE_ENGINE=1, as in CI, its absence is a failure instead.
 */
export const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    if (process.env.ORKESTRA_TEST_REQUIRE_ENGINE === '1') {
      throw new Error('redis-server is not installed (Debian: redis-server); ORKESTRA_TEST_REQUIRE_ENGINE=1 requires it.');
    }
    return false;
  }
})();
