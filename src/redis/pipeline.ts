import { RespConnection, type RespReply } from './resp.js';

/** Replies awaited at once while DUMP, EXISTS or DEL commands stream to the server. */
const WINDOW = 512;

/**
 * Commands sent without waiting, at most WINDOW replies outstanding: each reply goes to its
 * handler in order. SELECT is sent only when the database changes.
 */
export class Pipeline {
  private readonly pending: { reply: Promise<RespReply>; handle: (reply: RespReply) => unknown }[] = [];
  private current = -1;

  constructor(private readonly connection: RespConnection) {}

  async select(db: number): Promise<void> {
    if (db === this.current) return;
    await this.send(['SELECT', String(db)], (reply) => this.connection.expectOk(reply, `SELECT ${db}`));
    this.current = db;
  }

  /** The connection's database was changed outside the pipeline. */
  forget(): void {
    this.current = -1;
  }

  /** Runs `step` once every reply sent before has been handled. */
  after(step: () => unknown): void {
    this.pending.push({ reply: Promise.resolve(null), handle: step });
  }

  /** Sends without settling: for a command whose reply a later one's handler reads. */
  sendNow(args: readonly (string | Buffer)[], handle: (reply: RespReply) => unknown): void {
    this.pending.push({ reply: this.connection.send(args), handle });
  }

  async send(args: readonly (string | Buffer)[], handle: (reply: RespReply) => unknown): Promise<void> {
    this.sendNow(args, handle);
    await this.connection.drained();
    await this.settle(WINDOW);
  }

  async settle(keep: number): Promise<void> {
    while (this.pending.length > keep) {
      const { reply, handle } = this.pending.shift()!;
      await handle(await reply);
    }
  }
}
