import assert from "node:assert/strict";
import { test } from "node:test";
import { type EventSink, eventStream } from "./event-stream.ts";

function source(bufferedMax = 10) {
  let sink: EventSink<number> | undefined;
  let released = 0;
  const stream = eventStream<number>({
    bufferedMax,
    overflowError: () => new Error("overflow"),
    start: (s) => {
      sink = s;
      return () => {
        released += 1;
      };
    },
  });
  assert.ok(sink);
  return { stream, sink, released: () => released };
}

test("values pushed before and after next() arrive in order", async () => {
  const { stream, sink } = source();
  sink.push(1);
  sink.push(2);
  assert.deepEqual(await stream.next(), { done: false, value: 1 });
  assert.deepEqual(await stream.next(), { done: false, value: 2 });
  const third = stream.next();
  sink.push(3);
  sink.push(4);
  assert.deepEqual(await third, { done: false, value: 3 });
  assert.deepEqual(await stream.next(), { done: false, value: 4 });
});

test("return() releases the source at once, even with a next() pending", async () => {
  const { stream, sink, released } = source();
  const pending = stream.next();
  assert.equal(released(), 0);
  assert.deepEqual(await stream.return?.(), { done: true, value: undefined });
  assert.equal(released(), 1);
  assert.deepEqual(await pending, { done: true, value: undefined });
  sink.push(7);
  assert.deepEqual(await stream.next(), { done: true, value: undefined });
  await stream.return?.();
  assert.equal(released(), 1, "released once");
});

test("end() delivers what is buffered, then done; the source is released", async () => {
  const { stream, sink, released } = source();
  sink.push(1);
  sink.end();
  assert.equal(released(), 1);
  assert.deepEqual(await stream.next(), { done: false, value: 1 });
  assert.deepEqual(await stream.next(), { done: true, value: undefined });
});

test("a consumer falling behind bufferedMax gets the buffered values, then the overflow error", async () => {
  const { stream, sink, released } = source(2);
  sink.push(1);
  sink.push(2);
  sink.push(3);
  assert.equal(released(), 1);
  assert.deepEqual(await stream.next(), { done: false, value: 1 });
  assert.deepEqual(await stream.next(), { done: false, value: 2 });
  await assert.rejects(stream.next(), /overflow/);
  assert.deepEqual(await stream.next(), { done: true, value: undefined });
});

test("fail() rejects a pending next()", async () => {
  const { stream, sink } = source();
  const pending = stream.next();
  sink.fail(new Error("gone"));
  await assert.rejects(pending, /gone/);
});

test("a source that ends while starting is released", async () => {
  let released = 0;
  const stream = eventStream<number>({
    bufferedMax: 1,
    overflowError: () => new Error("overflow"),
    start: (sink) => {
      sink.push(42);
      sink.end();
      return () => {
        released += 1;
      };
    },
  });
  assert.equal(released, 1);
  assert.deepEqual(await stream.next(), { done: false, value: 42 });
  assert.deepEqual(await stream.next(), { done: true, value: undefined });
});
