// An ordered, retrying, idempotent post queue. Timers, the network and online state are
// injected, so node --test drives it with fakes; api.js wires it to fetch and the window.

export function backoffDelay(attempt, { base = 500, max = 30_000, jitter = 0.2, random = Math.random } = {}) {
  const capped = Math.min(max, base * 2 ** attempt);
  return Math.round(capped * (1 - jitter * random()));
}

// Network errors (status 0), timeouts, throttling and server errors are worth retrying;
// any other 4xx will fail the same way again.
export function isRetryable(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

// send(group, payloads) posts payloads (one, or a batch) and rejects with {status, retryAfter}.
export function createRetryQueue({
  send,
  onGiveUp = () => {},
  setTimer = setTimeout,
  clearTimer = clearTimeout,
  random = Math.random,
  maxAttempts = 8,
  maxBatch = 20,
}) {
  const entries = []; // {key, group, payload, solo (send alone), single (never in a list)}
  let online = true;
  let inFlight = null; // the entries being sent
  let timer = null;
  let attempt = 0;
  let idleWaiters = [];

  // flush() waiters resolve once nothing more can happen right now: the queue is empty,
  // we are offline, or the next attempt waits for a backoff timer.
  function settleIdle() {
    if (inFlight || (entries.length && online && !timer)) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  }

  function schedule(delay) {
    clearTimer(timer);
    timer = setTimer(() => {
      timer = null;
      pump();
    }, delay);
  }

  function remove(batch) {
    for (const entry of batch) {
      const index = entries.indexOf(entry);
      if (index !== -1) entries.splice(index, 1);
    }
  }

  function nextBatch() {
    const head = entries[0];
    if (head.solo) return [head];
    const batch = [];
    for (const entry of entries) {
      if (entry.group !== head.group || entry.solo || batch.length === maxBatch) break;
      batch.push(entry);
    }
    return batch;
  }

  async function pump() {
    if (inFlight || timer || !online || !entries.length) return settleIdle();
    const batch = nextBatch();
    inFlight = batch;
    const payloads = batch.map((entry) => entry.payload);
    let retryDelay = null;
    try {
      await send(batch[0].group, payloads.length === 1 ? payloads[0] : payloads);
      remove(batch);
      attempt = 0;
    } catch (error) {
      const status = error?.status ?? 0;
      if (!isRetryable(status) && batch.length > 1) {
        batch.forEach((entry) => (entry.solo = true)); // retry one by one to find the bad turn
      } else if (!isRetryable(status) || (status !== 0 && attempt + 1 >= maxAttempts)) {
        remove(batch);
        attempt = 0;
        batch.forEach((entry) => onGiveUp(entry, error));
      } else {
        const retryAfterMs = (error?.retryAfter ?? 0) * 1000;
        retryDelay = Math.min(60_000, Math.max(backoffDelay(attempt, { random }), retryAfterMs));
        attempt += 1;
      }
    }
    inFlight = null;
    if (retryDelay !== null) {
      schedule(retryDelay);
      return settleIdle();
    }
    return pump();
  }

  return {
    // A newer payload for a key that is still waiting replaces it in place (same position).
    // batch: false for endpoints that take one object, never a list.
    enqueue(key, group, payload, { batch = true } = {}) {
      const waiting = entries.find((entry) => entry.key === key && entry.group === group && !inFlight?.includes(entry));
      if (waiting) waiting.payload = payload;
      else entries.push({ key, group, payload, solo: !batch, single: !batch });
      pump();
    },
    setOnline(value) {
      online = value;
      if (!online) {
        clearTimer(timer);
        timer = null;
        return settleIdle();
      }
      attempt = 0;
      clearTimer(timer);
      timer = null;
      pump();
    },
    // Try now instead of waiting for the backoff timer; resolves when the queue is empty
    // or cannot make progress (offline / retrying).
    flush() {
      clearTimer(timer);
      timer = null;
      const idle = new Promise((resolve) => idleWaiters.push(resolve));
      pump();
      return idle;
    },
    // Hand everything over (the page is going away) and forget it.
    drain() {
      clearTimer(timer);
      timer = null;
      return entries.splice(0, entries.length);
    },
    get size() {
      return entries.length;
    },
  };
}
