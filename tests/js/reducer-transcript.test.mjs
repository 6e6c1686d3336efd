// Transcript state from server events: ordering, deltas, posting turns.
import assert from "node:assert/strict";
import { test } from "node:test";

import { initialState, reduce, selectActivity, selectTranscript } from "../../static/js/realtime-reducer.js";
import { USAGE, assistantReply, of, posted, run, userSpeech } from "./helpers.mjs";

test("a late user transcript keeps the user turn before the assistant reply", () => {
  const { state, effects } = run([
    ...userSpeech("item_U1", null),
    ...assistantReply({ responseId: "resp_R1", itemId: "item_A1", prev: "item_U1", deltas: ["It's 4 degrees ", "in Oslo."] }),
    { type: "output_audio_buffer.stopped", response_id: "resp_R1" },
    {
      type: "conversation.item.input_audio_transcription.completed",
      item_id: "item_U1",
      content_index: 0,
      transcript: "What's the weather in Oslo?",
    },
  ]);

  const transcript = selectTranscript(state);
  assert.deepEqual(
    transcript.map(({ id, role, text, status }) => [id, role, text, status]),
    [
      ["item_U1", "user", "What's the weather in Oslo?", "completed"],
      ["item_A1", "assistant", "It's 4 degrees in Oslo.", "completed"],
    ],
  );

  const turns = posted(effects);
  assert.deepEqual(turns.map((turn) => turn.item_id), ["item_A1", "item_U1"]); // arrival order...
  const [assistant, user] = turns;
  assert.equal(user.position, 1); // ...but positions keep conversation order
  assert.equal(assistant.position, 2);
  assert.equal(user.previous_item_id, null);
  assert.equal(assistant.previous_item_id, "item_U1");
  assert.equal(assistant.session, 1);
  assert.equal(assistant.usage, USAGE);
  assert.equal(user.usage, null);
  assert.equal(user.role, "user");
  assert.equal(typeof user.started_at, "string");
  assert.equal(assistant.audio_end_ms, null);
  assert.ok(!("call_id" in assistant));
});

test("the chain wins over arrival when an item is announced out of order", () => {
  const { state } = run([
    { type: "conversation.item.added", previous_item_id: "item_U1", item: { id: "item_A1", type: "message", role: "assistant", content: [] } },
    { type: "conversation.item.added", previous_item_id: null, item: { id: "item_U1", type: "message", role: "user", content: [{ type: "input_audio", transcript: null }] } },
  ]);
  assert.deepEqual(selectTranscript(state).map((entry) => entry.id), ["item_U1", "item_A1"]);
});

test("assistant and user deltas accumulate live", () => {
  const { state } = run([
    ...userSpeech("item_U1", null),
    { type: "conversation.item.input_audio_transcription.delta", item_id: "item_U1", content_index: 0, delta: "What's the" },
    { type: "conversation.item.input_audio_transcription.delta", item_id: "item_U1", content_index: 0, delta: " weather" },
    { type: "response.created", response: { id: "resp_R1", status: "in_progress", output: [] } },
    { type: "response.output_item.added", response_id: "resp_R1", output_index: 0, item: { id: "item_A1", type: "message", role: "assistant", content: [] } },
    { type: "response.output_audio_transcript.delta", response_id: "resp_R1", item_id: "item_A1", delta: "Let me " },
    { type: "response.output_audio_transcript.delta", response_id: "resp_R1", item_id: "item_A1", delta: "check." },
  ]);
  const [user, assistant] = selectTranscript(state);
  assert.equal(user.text, "What's the weather");
  assert.equal(user.status, "transcribing");
  assert.equal(assistant.text, "Let me check.");
  assert.equal(assistant.status, "streaming");
  assert.equal(selectActivity(state), "thinking");
});

test("nothing is posted until a turn is finished, and a finished turn is posted once", () => {
  const events = [...userSpeech("item_U1", null), { type: "conversation.item.input_audio_transcription.delta", item_id: "item_U1", delta: "Hi" }];
  assert.equal(posted(run(events).effects).length, 0);
  const done = { type: "conversation.item.input_audio_transcription.completed", item_id: "item_U1", transcript: "Hi there" };
  const { effects } = run([...events, done, done, { type: "conversation.item.done", previous_item_id: null, item: { id: "item_U1", type: "message", role: "user", content: [{ type: "input_audio", transcript: "Hi there" }] } }]);
  assert.equal(posted(effects).length, 1);
});

test("a failed transcription is stored as failed", () => {
  const { state, effects } = run([
    ...userSpeech("item_U1", null),
    {
      type: "conversation.item.input_audio_transcription.failed",
      item_id: "item_U1",
      content_index: 0,
      error: { type: "transcription_error", code: "audio_unintelligible", message: "The audio could not be transcribed." },
    },
  ]);
  assert.equal(selectTranscript(state)[0].status, "failed");
  assert.deepEqual(posted(effects).map((turn) => [turn.status, turn.text]), [["failed", ""]]);
});

test("typed text sends item.create then response.create, and the echo is posted", () => {
  let { state, effects } = run([{ type: "local.send_text", text: "  Hello there  " }]);
  const events = of(effects, "send").map((effect) => effect.event);
  assert.deepEqual(
    events.map((event) => event.type),
    ["conversation.item.create", "response.create"],
  );
  assert.deepEqual(events[0].item, { type: "message", role: "user", content: [{ type: "input_text", text: "Hello there" }] });
  assert.ok(events.every((event) => typeof event.event_id === "string"));

  ({ state, effects } = run(
    [{ type: "conversation.item.added", previous_item_id: "item_A0", item: { id: "item_T1", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "Hello there" }] } }],
    state,
  ));
  assert.deepEqual(posted(effects).map((turn) => [turn.item_id, turn.text, turn.previous_item_id]), [["item_T1", "Hello there", "item_A0"]]);
});

test("typed text while a reply is running waits for it", () => {
  const { effects } = run([
    { type: "response.created", response: { id: "resp_R1", status: "in_progress", output: [] } },
    { type: "local.send_text", text: "Stop" },
  ]);
  assert.deepEqual(of(effects, "send").map((effect) => effect.event.type), ["conversation.item.create"]);
  const after = run([{ type: "response.done", response: { id: "resp_R1", status: "completed", output: [] } }], run([
    { type: "response.created", response: { id: "resp_R1", status: "in_progress", output: [] } },
    { type: "local.send_text", text: "Stop" },
  ]).state);
  assert.deepEqual(of(after.effects, "send").map((effect) => effect.event.type), ["response.create"]);
});

test("session.created without transcription warns once; unknown events are ignored", () => {
  const state = initialState();
  const created = reduce(state, { type: "session.created", session: { type: "realtime", audio: { input: { transcription: null } } } });
  assert.equal(of(created.effects, "notice").length, 1);
  const unknown = reduce(created.state, { type: "response.content_part.added", part: { type: "audio" } });
  assert.equal(unknown.state, created.state);
  assert.deepEqual(unknown.effects, []);
});

test("rate limits are kept", () => {
  const limits = [{ name: "tokens", limit: 50000, remaining: 49950, reset_seconds: 60 }];
  const { state } = run([{ type: "rate_limits.updated", rate_limits: limits }]);
  assert.deepEqual(state.rateLimits, limits);
});

test("stop flushes an unfinished user turn with its partial text", () => {
  const { effects, state } = run([
    ...userSpeech("item_U1", null),
    { type: "conversation.item.input_audio_transcription.delta", item_id: "item_U1", delta: "Good" },
    { type: "local.flush" },
  ]);
  assert.deepEqual(posted(effects).map((turn) => [turn.text, turn.status]), [["Good", "completed"]]);
  assert.equal(selectActivity(state), "idle");
});
