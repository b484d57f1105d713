/**
 * Push events into a pull-based async iterator, the shape GraphQL subscriptions consume.
 *
 * Why not an async generator: `return()` on a generator suspended at an `await` waits for that await
 * to settle — for a quiet account, forever — so the listener it holds would leak. Here `return()`
 * releases at once: the cleanup runs and a pending `next()` resolves done.
 *
 * Bounded: a consumer that falls `bufferedMax` events behind ends the stream with `overflowError`,
 * rather than letting a slow socket grow memory without limit.
 */

export interface EventSink<T> {
  push(value: T): void;
  /** Ends after the events already buffered are taken. */
  end(): void;
  /** Fails after the events already buffered are taken. */
  fail(error: unknown): void;
}

export interface EventStreamOptions<T> {
  readonly bufferedMax: number;
  readonly overflowError: () => unknown;
  /** Subscribes the sink to its source; returns what undoes that. Called once, at creation. */
  readonly start: (sink: EventSink<T>) => () => void;
}

export function eventStream<T>(options: EventStreamOptions<T>): AsyncIterableIterator<T> {
  const stream = new BufferedEventStream(options);
  stream.begin();
  return stream;
}

const done = <T>(): IteratorResult<T> => ({ done: true, value: undefined });

/** The iterator and the sink in one: one owner of the buffer, the waiting reader and the undo. */
class BufferedEventStream<T> implements AsyncIterableIterator<T>, EventSink<T> {
  private readonly buffered: T[] = [];
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private stop: (() => void) | undefined;

  private readonly options: EventStreamOptions<T>;

  constructor(options: EventStreamOptions<T>) {
    this.options = options;
  }

  begin(): void {
    this.stop = this.options.start({
      push: (value) => this.push(value),
      end: () => this.end(),
      fail: (error) => this.fail(error),
    });
    // The source may have ended the stream while starting (e.g. an answer already known).
    if (this.closed) this.release();
  }

  push(value: T): void {
    if (this.closed) return;
    const reader = this.takeWaiting();
    if (reader) reader.resolve({ done: false, value });
    else if (this.buffered.length >= this.options.bufferedMax) this.fail(this.options.overflowError());
    else this.buffered.push(value);
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.takeWaiting()?.resolve(done());
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    const reader = this.takeWaiting();
    // A waiting reader gets the failure now; otherwise the next read does, after the buffer.
    if (reader) reader.reject(error);
    else this.failure = { error };
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffered.length > 0) return Promise.resolve({ done: false, value: this.buffered.shift() as T });
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.closed) return Promise.resolve(done());
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.closed = true;
    this.failure = undefined;
    this.buffered.length = 0;
    this.release();
    this.takeWaiting()?.resolve(done());
    return Promise.resolve(done());
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private takeWaiting() {
    const reader = this.waiting;
    this.waiting = undefined;
    return reader;
  }

  private release(): void {
    const undo = this.stop;
    this.stop = undefined;
    undo?.();
  }
}
