import { PreconditionError, RuntimeError } from '../base/errors.js';
import { firstLine } from '../base/format.js';
import type { DockerEngine } from '../docker/engine.js';
import { layoutFromConfig, parseConfigPairs, parseInfo, type RedisLayout } from './layout.js';

/** One Redis server reached through `redis-cli` inside its container; the password travels in REDISCLI_AUTH. */
export class RedisCli {
  constructor(
    private readonly docker: DockerEngine,
    readonly container: string,
    private readonly password: string | undefined,
  ) {}

  async run(...args: string[]): Promise<string> {
    const env = this.password ? { REDISCLI_AUTH: this.password } : undefined;
    const result = await this.docker.exec(this.container, ['redis-cli', '-e', ...args], { env });
    const output = `${result.stdout}\n${result.stderr}`;
    if (/NOAUTH|WRONGPASS|invalid password/i.test(output)) {
      throw new PreconditionError(`Redis in ${this.container} refused the password.`, {
        hint: "Set REDIS_PASSWORD in docker/.env to the server's password.",
      });
    }
    if (result.exitCode !== 0) {
      throw new RuntimeError(`redis-cli ${args[0]} in ${this.container} failed: ${firstLine(output)}`);
    }
    return result.stdout;
  }

  async layout(): Promise<RedisLayout> {
    const pairs = parseConfigPairs(await this.run('CONFIG', 'GET', 'dir'));
    for (const key of ['dbfilename', 'appenddirname', 'appendfilename', 'appendonly']) {
      Object.assign(pairs, parseConfigPairs(await this.run('CONFIG', 'GET', key)));
    }
    return layoutFromConfig(pairs);
  }

  async persistence(): Promise<Record<string, string>> {
    return parseInfo(await this.run('INFO', 'persistence'));
  }

  async serverVersion(): Promise<string | undefined> {
    return parseInfo(await this.run('INFO', 'server')).redis_version;
  }
}
