import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay, createRetryQueue, isRetryable } from "../../static/js/retry-queue.js";

// A manual clock: timers run only when the test says so.
function fakeTimers() {
  const pending = [];
  return {
    delays: [],
    setTimer(fn, ms) {
      const timer = { fn, ms };
      pending.push(timer);
      this.delays.push(ms);
      return timer;
    },
    clearTimer(timer) {
      const index = pending.indexOf(timer);
      if (index !== -1) pending.splice(index, 1);
    },
    async fire() {
      const timer = pending.shift();
      assert.ok(timer, "no timer pending");
      timer.fn();
      await settle();
    },
    get pending() {
      return pending.length;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

// send() that answers from a script of outcomes: "ok" or an HTTP status (0 = network error).
function scriptedSend(script) {
  const calls = [];
  const send = async (group, payload) => {
    calls.push({ group, payload });
    const outcome = script.length ? script.shift() : "ok";
    if (outcome === "ok") return {};
    throw Object.assign(new Error(`status ${outcome}`), { status: outcome, retryAfter: outcome === 429 ? 7 : null });
  };
  return { send, calls };
}

function queueWith(script, options = {}) {
  const timers = fakeTimers();
  const { send, calls } = scriptedSend(script);
  const givenUp = [];
  const queue = createRetryQueue({
    send,
    onGiveUp: (entry, error) => givenUp.push([entry.key, error.status]),
    setTimer: timers.setTimer.bind(timers),
    clearTimer: timers.clearTimer.bind(timers),
    random: () => 0,
    ...options,
  });
  return { queue, timers, calls, givenUp };
}

test("backoff doubles from 500 ms up to 30 s, with jitter only shortening it", () => {
  const random = () => 0;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, { random })), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(backoffDelay(2, { random: () => 1 }), 1600);
});

test("retries 0, 408, 429 and 5xx; not other 4xx", () => {
  assert.deepEqual([0, 408, 429, 500, 502, 503, 504].map(isRetryable), Array(7).fill(true));
  assert.deepEqual([400, 401, 403, 404, 413].map(isRetryable), Array(5).fill(false));
});

test("network errors are retried with backoff and re-post the same idempotent payload", async () => {
  const { queue, timers, calls } = queueWith([0, 0]);
  queue.enqueue("item_A1", "/turns/", { item_id: "item_A1" });
  await settle();
  await timers.fire();
  await timers.fire();
  assert.deepEqual(timers.delays, [500, 1000]);
  assert.equal(calls.length, 3);
  assert.ok(calls.every((call) => call.payload.item_id === "item_A1"));
  assert.equal(queue.size, 0);
});

test("a 4xx other than 408/429 stops retrying that turn and moves on", async () => {
  const { queue, calls, givenUp, timers } = queueWith([400]);
  queue.enqueue("item_bad", "/turns/", { item_id: "item_bad" });
  await settle();
  queue.enqueue("item_ok", "/turns/", { item_id: "item_ok" });
  await settle();
  assert.deepEqual(givenUp, [["item_bad", 400]]);
  assert.deepEqual(calls.map((call) => call.payload.item_id), ["item_bad", "item_ok"]);
  assert.equal(timers.pending, 0);
});

test("429 honours Retry-After; 5xx gives up after maxAttempts", async () => {
  const throttled = queueWith([429]);
  throttled.queue.enqueue("a", "/turns/", { item_id: "a" });
  await settle();
  assert.deepEqual(throttled.timers.delays, [7000]);

  const broken = queueWith([500, 500, 500], { maxAttempts: 3 });
  broken.queue.enqueue("a", "/turns/", { item_id: "a" });
  await settle();
  await broken.timers.fire();
  await broken.timers.fire();
  assert.deepEqual(broken.givenUp, [["a", 500]]);
  assert.equal(broken.calls.length, 3);
});

test("order is kept: later turns wait behind a retrying one, then go as one batch", async () => {
  const { queue, timers, calls } = queueWith([503]);
  queue.enqueue("a", "/turns/", { item_id: "a" });
  await settle();
  queue.enqueue("b", "/turns/", { item_id: "b" });
  queue.enqueue("c", "/turns/", { item_id: "c" });
  await settle();
  assert.equal(calls.length, 1);
  await timers.fire();
  assert.deepEqual(calls.map((call) => call.payload), [{ item_id: "a" }, [{ item_id: "a" }, { item_id: "b" }, { item_id: "c" }]]);
});

test("a newer post for a waiting item replaces it in place", async () => {
  const { queue, timers, calls } = queueWith([0]);
  queue.enqueue("a", "/turns/", { item_id: "a", text: "first" });
  await settle();
  queue.enqueue("b", "/turns/", { item_id: "b" });
  queue.enqueue("a", "/turns/", { item_id: "a", text: "heard" }); // "a" is waiting for its retry
  await timers.fire();
  assert.deepEqual(calls.at(-1).payload, [{ item_id: "a", text: "heard" }, { item_id: "b" }]);
});

test("a rejected batch is retried one turn at a time to isolate the bad one", async () => {
  const { queue, timers, calls, givenUp } = queueWith([0, 400, "ok", 400, "ok"]);
  queue.enqueue("a", "/turns/", { item_id: "a" });
  await settle();
  queue.enqueue("b", "/turns/", { item_id: "b" });
  queue.enqueue("c", "/turns/", { item_id: "c" });
  await timers.fire();
  assert.deepEqual(calls.slice(2).map((call) => call.payload.item_id), ["a", "b", "c"]);
  assert.deepEqual(givenUp, [["b", 400]]);
  assert.equal(queue.size, 0);
});

test("offline queues without sending; online sends everything", async () => {
  const { queue, calls } = queueWith([]);
  queue.setOnline(false);
  queue.enqueue("a", "/turns/", { item_id: "a" });
  queue.enqueue("b", "/turns/", { item_id: "b" });
  await settle();
  assert.equal(calls.length, 0);
  queue.setOnline(true);
  await settle();
  assert.deepEqual(calls.map((call) => call.payload), [[{ item_id: "a" }, { item_id: "b" }]]);
});

test("flush skips the backoff wait and resolves; drain hands over what is left", async () => {
  const { queue, timers, calls } = queueWith([0, 0]);
  queue.enqueue("a", "/turns/", { item_id: "a" });
  await settle();
  assert.equal(timers.pending, 1);
  await queue.flush(); // second attempt now, fails, resolves instead of hanging
  assert.equal(calls.length, 2);
  await queue.flush(); // third attempt succeeds
  assert.equal(queue.size, 0);

  const offline = queueWith([]);
  offline.queue.setOnline(false);
  offline.queue.enqueue("x", "/turns/", { item_id: "x" });
  await offline.queue.flush();
  assert.deepEqual(offline.queue.drain().map((entry) => entry.key), ["x"]);
  assert.equal(offline.queue.size, 0);
});

test("entries enqueued with batch: false are always sent alone, as the object itself", async () => {
  const { queue, timers, calls } = queueWith([0]);
  queue.enqueue("t1", "/turns/", { n: 1 });
  queue.enqueue("u1", "/usage/", { seconds: 5 }, { batch: false });
  queue.enqueue("u2", "/usage/", { seconds: 9, session: 2 }, { batch: false });
  queue.enqueue("t2", "/turns/", { n: 2 });
  await settle();
  await timers.fire();
  assert.deepEqual(calls.map((call) => call.payload), [{ n: 1 }, { n: 1 }, { seconds: 5 }, { seconds: 9, session: 2 }, { n: 2 }]);
});
