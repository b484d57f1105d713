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
  const buffered: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let failWaiting: ((error: unknown) => void) | undefined;
  let closed = false;
  let failure: { error: unknown } | undefined;
  let stop: (() => void) | undefined;

  const release = () => {
    const undo = stop;
    stop = undefined;
    undo?.();
  };
  const settleWaiting = (settle: () => void) => {
    waiting = undefined;
    failWaiting = undefined;
    settle();
  };
  const done = (): IteratorResult<T> => ({ done: true, value: undefined });

  const sink: EventSink<T> = {
    push(value) {
      if (closed) return;
      const resolve = waiting;
      if (resolve) return settleWaiting(() => resolve({ done: false, value }));
      if (buffered.length >= options.bufferedMax) return sink.fail(options.overflowError());
      buffered.push(value);
    },
    end() {
      if (closed) return;
      closed = true;
      release();
      const resolve = waiting;
      if (resolve) settleWaiting(() => resolve(done()));
    },
    fail(error) {
      if (closed) return;
      closed = true;
      failure = { error };
      release();
      const reject = failWaiting;
      if (reject) {
        failure = undefined;
        settleWaiting(() => reject(error));
      }
    },
  };

  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (buffered.length > 0) return Promise.resolve({ done: false, value: buffered.shift() as T });
      if (failure) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (closed) return Promise.resolve(done());
      return new Promise((resolve, reject) => {
        waiting = resolve;
        failWaiting = reject;
      });
    },
    return() {
      closed = true;
      failure = undefined;
      buffered.length = 0;
      release();
      const resolve = waiting;
      if (resolve) settleWaiting(() => resolve(done()));
      return Promise.resolve(done());
    },
    throw(error: unknown) {
      void iterator.return?.();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };

  stop = options.start(sink);
  // The source may have ended the stream while starting (e.g. an answer already known).
  if (closed) release();
  return iterator;
}
