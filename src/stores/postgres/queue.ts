/**
 * Group commit for one store: at most `limit` statements in flight (the pool's size); calls that
 * arrive while all are busy wait, and when a statement returns, everything that waited of one kind
 * goes out as ONE statement (a batch). Under light load every call is its own statement; under heavy
 * load the database parses, plans and commits once per batch instead of once per request, and each
 * call still costs at most one round trip.
 */
export interface Batch<Item, Result> {
  /** Sends the items as one statement; resolves with one result per item, in order. */
  send(items: readonly Item[]): Promise<readonly Result[]>;
}

interface Waiting<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
  /** Gave up (its deadline passed) before it was sent: skipped. */
  cancelled: boolean;
}

export interface Ticket {
  cancel(): void;
}

interface Lane {
  waiting: Array<Waiting<unknown, unknown>>;
  batch: Batch<unknown, unknown>;
  /** Most statements of this lane in flight at once. */
  limit: number;
  inFlight: number;
}

/** The largest batch one statement carries (bounds a statement's size and its row locks). */
const MAX_BATCH = 256;

export class StatementQueue {
  #inFlight = 0;
  readonly #lanes: Lane[] = [];
  #next = 0;

  constructor(readonly limit: number) {}

  /**
   * A lane: calls of one kind (loads, commits) that can share a statement, with at most `limit` of
   * its statements in flight (and never more than the queue's limit in all).
   */
  lane<Item, Result>(
    batch: Batch<Item, Result>,
    limit = this.limit,
  ): (item: Item, ticket?: (t: Ticket) => void) => Promise<Result> {
    const lane = { waiting: [] as Array<Waiting<Item, Result>>, batch, limit, inFlight: 0 };
    this.#lanes.push(lane as unknown as Lane);
    return (item, ticket) =>
      new Promise<Result>((resolve, reject) => {
        const waiting: Waiting<Item, Result> = { item, resolve, reject, cancelled: false };
        ticket?.({
          cancel: () => {
            waiting.cancelled = true;
          },
        });
        lane.waiting.push(waiting);
        this.#pump();
      });
  }

  #pump(): void {
    while (this.#inFlight < this.limit) {
      const lane = this.#pickLane();
      if (lane === undefined) return;
      const calls = lane.waiting.splice(0, MAX_BATCH).filter((call) => !call.cancelled);
      if (calls.length === 0) continue;
      this.#inFlight += 1;
      lane.inFlight += 1;
      lane.batch.send(calls.map((call) => call.item)).then(
        (results) => {
          for (let index = 0; index < calls.length; index++) calls[index]?.resolve(results[index]);
          this.#done(lane);
        },
        (error: unknown) => {
          for (const call of calls) call.reject(error);
          this.#done(lane);
        },
      );
    }
  }

  /** The next lane with waiting calls, taking turns so neither kind starves the other. */
  #pickLane(): Lane | undefined {
    for (let i = 0; i < this.#lanes.length; i++) {
      const lane = this.#lanes[(this.#next + i) % this.#lanes.length];
      if (lane !== undefined && lane.waiting.length > 0 && lane.inFlight < lane.limit) {
        this.#next = (this.#next + i + 1) % this.#lanes.length;
        return lane;
      }
    }
    return undefined;
  }

  #done(lane: Lane): void {
    this.#inFlight -= 1;
    lane.inFlight -= 1;
    this.#pump();
  }
}
