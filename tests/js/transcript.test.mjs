import assert from "node:assert/strict";
import { test } from "node:test";

import { callsMessage, httpMessage, isFatalRealtimeError, microphoneMessage, realtimeErrorMessage } from "../../static/js/messages.js";
import { allocateHeard, conversationOrder, estimateAudioMs, heardText, storedPrevious, toTurn } from "../../static/js/transcript.js";

test("heard text is a word-boundary prefix proportional to the heard time", () => {
  const text = "one two three four five six seven eight nine ten";
  assert.equal(heardText(text, 0, 1000), "");
  assert.equal(heardText(text, 1000, 1000), text);
  assert.equal(heardText(text, 5000, 1000), text);
  assert.equal(heardText(text, 500, 1000), "one two three four five");
  assert.equal(heardText(text, 300, 1000), "one two three");
  assert.equal(heardText("", 500, 1000), "");
  assert.equal(estimateAudioMs("x".repeat(15)), 1000);
});

test("heard time is split over the response's audio items in order", () => {
  assert.deepEqual(allocateHeard([1000, 2000], 1500), [1000, 500]);
  assert.deepEqual(allocateHeard([1000], Infinity), [1000]);
  assert.deepEqual(allocateHeard([1000, 1000], -5), [0, 0]);
});

test("conversation order follows previous_item_id, then position", () => {
  const items = {
    a2: { id: "a2", prev: "u2", position: 3 },
    u2: { id: "u2", prev: "a1", position: 4 },
    a1: { id: "a1", prev: "u1", position: 2 },
    u1: { id: "u1", prev: null, position: 1 },
    x: { id: "x", prev: "unknown", position: 5 },
  };
  assert.deepEqual(conversationOrder(items).map((item) => item.id), ["u1", "a1", "u2", "a2", "x"]);
  const cycle = { p: { id: "p", prev: "q", position: 1 }, q: { id: "q", prev: "p", position: 2 } };
  assert.equal(conversationOrder(cycle).length, 2);
});

test("previous_item_id skips items that are never stored (function outputs)", () => {
  const items = {
    f1: { id: "f1", prev: "u1", role: "tool", position: 2 },
    o1: { id: "o1", prev: "f1", role: "other", position: 3 },
    a1: { id: "a1", prev: "o1", role: "assistant", position: 4 },
  };
  assert.equal(storedPrevious(items, "a1"), "f1");
  assert.equal(storedPrevious(items, "f1"), "u1");
});

test("a tool turn carries name, call_id, arguments and output", () => {
  const item = { id: "f1", prev: null, role: "tool", position: 1, text: "Oslo: 4 °C", status: "completed", name: "get_weather", callId: "call_1", arguments: "{}", output: "{}", startedAt: 0, endedAt: 1000 };
  assert.deepEqual(toTurn(item, { items: { f1: item }, session: 3 }), {
    item_id: "f1",
    previous_item_id: null,
    session: 3,
    position: 1,
    role: "tool",
    text: "Oslo: 4 °C",
    status: "completed",
    started_at: "1970-01-01T00:00:00.000Z",
    ended_at: "1970-01-01T00:00:01.000Z",
    audio_end_ms: null,
    usage: null,
    name: "get_weather",
    call_id: "call_1",
    arguments: "{}",
    output: "{}",
  });
});

test("every failure has a human sentence", () => {
  assert.match(microphoneMessage({ name: "NotAllowedError" }), /blocked/);
  assert.match(microphoneMessage({ name: "NotFoundError" }), /No microphone/);
  assert.match(microphoneMessage({ name: "NotReadableError" }), /another application/);
  assert.match(httpMessage(503), /not configured/);
  assert.match(httpMessage(429), /limit/);
  assert.match(callsMessage(401), /expired/);
  assert.match(realtimeErrorMessage({ code: "session_expired" }), /maximum length/);
  assert.equal(realtimeErrorMessage({ code: "response_cancel_not_active" }), null);
  assert.equal(isFatalRealtimeError({ code: "session_expired" }), true);
  assert.equal(isFatalRealtimeError({ code: "invalid_value" }), false);
});
