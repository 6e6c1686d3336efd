// GPT-Live transcript fragments -> turns (the SDK TranscriptGrouper policy, backchannels kept).
import assert from "node:assert/strict";
import { test } from "node:test";

import { TranscriptGrouper } from "../../static/js/live-transcript.js";

let seq = 0;
const user = (delta, start, end, id = `event_${++seq}`) => ({ type: "session.input_transcript.delta", event_id: id, delta, start_ms: start, end_ms: end });
const bot = (delta, start, end, id = `event_${++seq}`) => ({ type: "session.output_transcript.delta", event_id: id, delta, start_ms: start, end_ms: end });

// Runs the timers due before `now`, as the page does with wakeAt + setTimeout.
function runTimers(grouper, now) {
  const updates = [];
  for (let wake = grouper.wakeAt(now - 1); wake != null && wake < now; wake = grouper.wakeAt(wake)) updates.push(...grouper.tick(wake));
  return updates;
}

// Pushes [event, now] pairs with the timers in between, then runs the timers due before `until`.
function feed(grouper, entries, until = entries.at(-1)[1] + 100) {
  const updates = [];
  for (const [event, now] of entries) updates.push(...runTimers(grouper, now), ...grouper.push(event, now));
  return [...updates, ...runTimers(grouper, until)];
}
const closed = (updates) => updates.filter((u) => u.type === "closed").map((u) => [u.segment.speaker, u.segment.text, u.reason]);

test("fragments of one speaker join into one turn with a stable id from the first fragment", () => {
  const grouper = new TranscriptGrouper("live_1");
  const updates = feed(grouper, [
    [user("What's the weather", 4200, 4900, "event_10"), 100],
    [user(" in Amsterdam?", 4900, 5600, "event_11"), 800],
  ]);
  const last = updates.at(-1).segment;
  assert.equal(last.id, "live_1:event_10");
  assert.equal(last.text, "What's the weather in Amsterdam?");
  assert.deepEqual(closed(grouper.finish(900)), [["user", "What's the weather in Amsterdam?", "session_closed"]]);
});

test("the other speaker after a pause closes the turn (speaker_change) and chains the ids", () => {
  const grouper = new TranscriptGrouper("live_1");
  const updates = feed(grouper, [
    [user("Hello", 0, 600, "event_1"), 100],
    [bot("Hi there!", 1500, 2200, "event_2"), 1600],
  ]);
  assert.deepEqual(closed(updates), [["user", "Hello", "speaker_change"]]);
  const reply = updates.at(-1).segment;
  assert.deepEqual([reply.id, reply.previousId, reply.speaker], ["live_1:event_2", "live_1:event_1", "assistant"]);
});

test("an assistant fragment closer than 500 ms to the user's speech waits; the user's words keep their turn", () => {
  const grouper = new TranscriptGrouper("live_1");
  const updates = feed(grouper, [
    [user("Tell me", 0, 500), 100],
    [bot("Sure", 700, 900), 200], // 200 ms after the user's last word: held back
    [user(" a joke", 800, 1300), 300], // the user goes on: same turn
  ], 301);
  assert.deepEqual(closed(updates), []);
  assert.equal(updates.at(-1).segment.text, "Tell me a joke");
  // Nothing more from the user for 500 ms of session time: the held reply becomes the turn.
  const later = runTimers(grouper, 1000);
  assert.deepEqual(closed(later), [["user", "Tell me a joke", "speaker_change"]]);
  assert.equal(later.at(-1).segment.text, "Sure");
});

test("an assistant turn closes after 5 s without text (inactivity), driven by wakeAt/tick", () => {
  const grouper = new TranscriptGrouper("live_1");
  feed(grouper, [[bot("It's eleven degrees.", 0, 1000), 100]]);
  const wake = grouper.wakeAt(200);
  assert.equal(wake, 100 + 5000); // 5 s of session time after the fragment that arrived at 100
  assert.deepEqual(grouper.tick(wake - 1), []);
  assert.deepEqual(closed(grouper.tick(wake)), [["assistant", "It's eleven degrees.", "inactivity"]]);
  assert.equal(grouper.wakeAt(wake), null);
});

test("a duplicated event_id is counted once", () => {
  const grouper = new TranscriptGrouper("live_1");
  feed(grouper, [
    [user("one", 0, 300, "event_1"), 100],
    [user(" two", 300, 600, "event_2"), 200],
    [user(" two", 300, 600, "event_2"), 210],
  ]);
  assert.deepEqual(closed(grouper.finish(300)), [["user", "one two", "session_closed"]]);
});

test("a timeline that goes backwards closes every open turn (timestamp_reset)", () => {
  const grouper = new TranscriptGrouper("live_1");
  const updates = feed(grouper, [
    [user("before", 5000, 5500), 100],
    [user("after", 100, 400), 200],
  ]);
  assert.deepEqual(closed(updates), [["user", "before", "timestamp_reset"]]);
  assert.equal(updates.at(-1).segment.text, "after");
});

test("a short acknowledgement is kept as a turn of its own: this is an archive", () => {
  const grouper = new TranscriptGrouper("live_1");
  const updates = feed(grouper, [
    [user("So I was thinking about the trip", 0, 2000), 100],
    [bot("mhm", 2600, 2900), 200],
    [user("to Oslo next week", 4000, 5500), 300],
  ]);
  assert.deepEqual(closed([...updates, ...grouper.finish(400)]), [
    ["user", "So I was thinking about the trip", "speaker_change"],
    ["assistant", "mhm", "speaker_change"],
    ["user", "to Oslo next week", "session_closed"],
  ]);
});

test("malformed fragments are ignored, never thrown", () => {
  const grouper = new TranscriptGrouper("live_1");
  for (const event of [
    { type: "session.input_transcript.delta", delta: "no id", start_ms: 0, end_ms: 1 },
    user("negative", -1, 5),
    user("backwards", 10, 5),
    user("fraction", 1.5, 5),
    { ...user("x", 0, 1), delta: 42 },
  ]) {
    assert.deepEqual(grouper.push(event, 0), []);
  }
  assert.deepEqual(grouper.finish(1), []);
});

test("closeOpen ends the open turns but keeps grouping; the grouper is copied, not changed", () => {
  const grouper = new TranscriptGrouper("live_1");
  feed(grouper, [[user("weather in Oslo", 0, 900), 100]]);
  assert.equal(grouper.speaker, "user");
  const copy = grouper.clone();
  assert.deepEqual(closed(copy.closeOpen(200)), [["user", "weather in Oslo", "manual"]]);
  assert.equal(grouper.speaker, "user"); // the original is untouched
  const next = copy.push(user("and Paris", 1000, 1500), 300);
  assert.deepEqual(next, []); // a new turn waits 50 ms for the other speaker's same-interval fragment
  assert.equal(copy.tick(350).at(-1).segment.text, "and Paris");
});

test("an answer delivered in parts as it is spoken (each part longer than 2 s) stays one turn", () => {
  const grouper = new TranscriptGrouper("live_1");
  const updates = feed(grouper, [
    [bot("In Paris, Île-de-France, France it is", 10_000, 13_200), 1_000], // sent as the part starts
    [bot(" 7 degrees and mainly clear. In", 13_200, 16_000), 4_200],
    [bot(" Berlin it is 5 degrees.", 16_000, 18_500), 7_000],
  ], 20_000);
  assert.deepEqual(closed(updates), [["assistant", "In Paris, Île-de-France, France it is 7 degrees and mainly clear. In Berlin it is 5 degrees.", "inactivity"]]);
});
