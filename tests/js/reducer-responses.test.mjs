// Responses: tool-call batching, the queued response.create, barge-in, error events.
import assert from "node:assert/strict";
import { test } from "node:test";

import { selectTranscript } from "../../static/js/realtime-reducer.js";
import { estimateAudioMs } from "../../static/js/transcript.js";
import { USAGE, assistantReply, functionCall, of, posted, run, sent, userSpeech } from "./helpers.mjs";

const OSLO = '{"location":"Oslo"}';
const PARIS = '{"location":"Paris"}';

// A response with two function calls, each reported by arguments.done, output_item.done and
// response.done (docs/realtime-api.md, "Function calls").
function twoCalls() {
  return [
    ...userSpeech("item_U1", null),
    { type: "response.created", response: { id: "resp_R1", status: "in_progress", output: [] } },
    { type: "response.output_item.added", response_id: "resp_R1", output_index: 0, item: { ...functionCall("item_F1", "call_1", ""), status: "in_progress" } },
    { type: "conversation.item.added", previous_item_id: "item_U1", item: { ...functionCall("item_F1", "call_1", ""), status: "in_progress" } },
    { type: "response.function_call_arguments.done", response_id: "resp_R1", item_id: "item_F1", output_index: 0, call_id: "call_1", name: "get_weather", arguments: OSLO },
    { type: "response.output_item.done", response_id: "resp_R1", output_index: 0, item: functionCall("item_F1", "call_1", OSLO) },
    { type: "response.output_item.added", response_id: "resp_R1", output_index: 1, item: { ...functionCall("item_F2", "call_2", ""), status: "in_progress" } },
    { type: "conversation.item.added", previous_item_id: "item_F1", item: { ...functionCall("item_F2", "call_2", ""), status: "in_progress" } },
    { type: "response.function_call_arguments.done", response_id: "resp_R1", item_id: "item_F2", output_index: 1, call_id: "call_2", name: "get_weather", arguments: PARIS },
    { type: "response.output_item.done", response_id: "resp_R1", output_index: 1, item: functionCall("item_F2", "call_2", PARIS) },
    {
      type: "response.done",
      response: { id: "resp_R1", status: "completed", output: [functionCall("item_F1", "call_1", OSLO), functionCall("item_F2", "call_2", PARIS)], usage: USAGE },
    },
  ];
}

const results = [
  { callId: "call_1", ok: true, output: '{"location":"Oslo","temperature":4}', text: "Oslo: 4 °C" },
  { callId: "call_2", ok: false, output: '{"error":"No place called Paris."}', text: "No place called Paris." },
];

test("two function calls in one response run once each, as one batch", () => {
  const { state, effects } = run(twoCalls());
  const batches = of(effects, "runTools");
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0].calls, [
    { callId: "call_1", itemId: "item_F1", name: "get_weather", arguments: OSLO },
    { callId: "call_2", itemId: "item_F2", name: "get_weather", arguments: PARIS },
  ]);
  assert.deepEqual(sent(effects), []); // nothing goes back before the tools answered
  assert.deepEqual(selectTranscript(state).map((entry) => [entry.role, entry.status]), [["user", "pending"], ["tool", "running"], ["tool", "running"]]);

  // The same response.done again (or another mention of the calls) runs nothing new.
  const again = run([twoCalls().at(-1)], state);
  assert.equal(of(again.effects, "runTools").length, 0);
});

test("tool results send one output per call_id, then exactly one response.create", () => {
  const { state } = run(twoCalls());
  const { effects } = run([{ type: "local.tool_results", results }, { type: "local.tool_results", results }], state);
  assert.deepEqual(
    sent(effects).map((event) => [event.type, event.item?.type, event.item?.call_id, event.item?.output]),
    [
      ["conversation.item.create", "function_call_output", "call_1", results[0].output],
      ["conversation.item.create", "function_call_output", "call_2", results[1].output],
      ["response.create", undefined, undefined, undefined],
    ],
  );
  const turns = posted(effects);
  assert.deepEqual(
    turns.map((turn) => [turn.item_id, turn.role, turn.name, turn.call_id, turn.arguments, turn.output, turn.status, turn.text]),
    [
      ["item_F1", "tool", "get_weather", "call_1", OSLO, results[0].output, "completed", "Oslo: 4 °C"],
      ["item_F2", "tool", "get_weather", "call_2", PARIS, results[1].output, "failed", "No place called Paris."],
    ],
  );
  assert.equal(turns[0].usage, USAGE); // the response's usage travels with its first item, once
  assert.equal(turns[1].usage, null);
  assert.equal(turns[1].previous_item_id, "item_F1");
});

test("the post-tool response.create waits for a VAD response that got there first", () => {
  const { state } = run(twoCalls());
  const vad = [...userSpeech("item_U2", "item_F2"), { type: "response.created", response: { id: "resp_R2", status: "in_progress", output: [] } }];
  const during = run([...vad, { type: "local.tool_results", results }], state);
  assert.deepEqual(sent(during.effects).map((event) => event.type), ["conversation.item.create", "conversation.item.create"]);
  const after = run([{ type: "response.done", response: { id: "resp_R2", status: "completed", output: [] } }], during.state);
  assert.deepEqual(sent(after.effects).map((event) => event.type), ["response.create"]);
});

test("conversation_already_has_active_response is not shown and is retried after the active reply", () => {
  const { state, effects } = run([
    { type: "response.created", response: { id: "resp_R1", status: "in_progress", output: [] } },
    { type: "error", error: { type: "invalid_request_error", code: "conversation_already_has_active_response", message: "Conversation already has an active response", event_id: "voiceapp_response_3" } },
  ]);
  assert.deepEqual(of(effects, "error"), []);
  const after = run([{ type: "response.done", response: { id: "resp_R1", status: "completed", output: [] } }], state);
  assert.deepEqual(sent(after.effects).map((event) => event.type), ["response.create"]);
});

test("calls of a cancelled response are not run", () => {
  const events = twoCalls();
  events[events.length - 1] = { type: "response.done", response: { id: "resp_R1", status: "cancelled", status_details: { reason: "turn_detected" }, output: [] } };
  const { effects } = run(events);
  assert.equal(of(effects, "runTools").length, 0);
  assert.deepEqual(posted(effects).map((turn) => [turn.item_id, turn.status]), [["item_F1", "interrupted"], ["item_F2", "interrupted"]]);
});

const LONG = "The weather in Oslo is four degrees and overcast, with a light breeze from the north and rain later this evening.";

test("barge-in cuts the reply: truncate at the played ms, stored as interrupted with the heard text", () => {
  const reply = assistantReply({ responseId: "resp_R1", itemId: "item_A1", prev: "item_U1", deltas: [LONG], status: "cancelled" });
  const done = reply.pop();
  done.response.status_details = { type: "cancelled", reason: "turn_detected" };
  const { state, effects } = run([
    ...userSpeech("item_U1", null),
    ...reply.slice(0, 3),
    [{ type: "output_audio_buffer.started", response_id: "resp_R1" }, 10_000],
    ...reply.slice(4).map((event) => [event, 10_100]),
    [{ type: "input_audio_buffer.speech_started", item_id: "item_U2", audio_start_ms: 9000 }, 12_000],
    [{ type: "output_audio_buffer.cleared", response_id: "resp_R1" }, 12_300],
    [done, 12_400],
  ]);

  const truncates = sent(effects).filter((event) => event.type === "conversation.item.truncate");
  assert.deepEqual(truncates.map(({ item_id, content_index, audio_end_ms }) => ({ item_id, content_index, audio_end_ms })), [
    { item_id: "item_A1", content_index: 0, audio_end_ms: 2000 },
  ]);

  const [turn] = posted(effects).filter((t) => t.role === "assistant");
  assert.equal(turn.status, "interrupted");
  assert.equal(turn.audio_end_ms, 2000);
  assert.ok(LONG.startsWith(turn.text) && turn.text.length > 0 && turn.text.length < LONG.length / 2, turn.text);
  assert.ok(!turn.text.endsWith(" "));
  assert.equal(selectTranscript(state).find((entry) => entry.id === "item_A1").status, "interrupted");

  // An error reply to our truncate is benign.
  const error = { type: "error", error: { type: "invalid_request_error", code: "invalid_value", message: "audio_end_ms is too large", event_id: truncates[0].event_id } };
  assert.deepEqual(run([error], state).effects, []);
});

test("cleared after generation finished still counts as interrupted; stopped first does not", () => {
  const reply = assistantReply({ responseId: "resp_R1", itemId: "item_A1", prev: "item_U1", deltas: [LONG] });
  const base = [...userSpeech("item_U1", null), ...reply.slice(0, 3), [reply[3], 5_000], ...reply.slice(4).map((event) => [event, 5_050])];

  // Nothing is posted while the reply is still playing.
  assert.equal(posted(run(base).effects).filter((t) => t.role === "assistant").length, 0);

  const cut = run([...base, [{ type: "output_audio_buffer.cleared", response_id: "resp_R1" }, 6_000]]);
  const [cutTurn] = posted(cut.effects).filter((t) => t.role === "assistant");
  assert.deepEqual([cutTurn.status, cutTurn.audio_end_ms], ["interrupted", 1000]);
  assert.equal(sent(cut.effects).filter((event) => event.type === "conversation.item.truncate")[0].audio_end_ms, 1000);

  const full = run([
    ...base,
    [{ type: "output_audio_buffer.stopped", response_id: "resp_R1" }, 5_000 + estimateAudioMs(LONG)],
    [{ type: "output_audio_buffer.cleared", response_id: "resp_R1" }, 5_000 + estimateAudioMs(LONG) + 100],
  ]);
  const assistantTurns = posted(full.effects).filter((t) => t.role === "assistant");
  assert.deepEqual(assistantTurns.map((t) => [t.status, t.text]), [["completed", LONG]]);
  assert.equal(sent(full.effects).filter((event) => event.type === "conversation.item.truncate").length, 0);
});

test("truncate is capped to the item's (estimated) audio", () => {
  const reply = assistantReply({ responseId: "resp_R1", itemId: "item_A1", prev: null, deltas: ["Hi."] });
  const done = reply.pop();
  const { effects } = run([...reply.slice(0, 3), [reply[3], 1_000], ...reply.slice(4), [done, 1_050], [{ type: "output_audio_buffer.cleared", response_id: "resp_R1" }, 60_000]]);
  const [truncate] = sent(effects).filter((event) => event.type === "conversation.item.truncate");
  assert.equal(truncate.audio_end_ms, estimateAudioMs("Hi."));
  assert.deepEqual(posted(effects).map((t) => [t.status, t.text]), [["interrupted", "Hi."]]);
});

test("a server-reported truncation corrects the heard estimate", () => {
  const reply = assistantReply({ responseId: "resp_R1", itemId: "item_A1", prev: null, deltas: [LONG] });
  const events = [...reply.slice(0, 3), [reply[3], 1_000], ...reply.slice(4), [{ type: "output_audio_buffer.cleared", response_id: "resp_R1" }, 1_500]];
  const { state } = run(events);
  const { effects } = run([{ type: "conversation.item.truncated", item_id: "item_A1", content_index: 0, audio_end_ms: 4000 }], state);
  const [turn] = posted(effects);
  assert.equal(turn.audio_end_ms, 4000);
  assert.ok(turn.text.length > 40 && turn.text.length < LONG.length);
  // The echo of our own truncate (500 ms) does not override the server's measure.
  const echo = run([{ type: "conversation.item.truncated", item_id: "item_A1", content_index: 0, audio_end_ms: 500 }], run([{ type: "conversation.item.truncated", item_id: "item_A1", content_index: 0, audio_end_ms: 4000 }], state).state);
  assert.deepEqual(posted(echo.effects), []);
});

test("error events become human messages; session_expired is fatal", () => {
  const { effects } = run([
    { type: "error", error: { type: "invalid_request_error", code: "session_expired", message: "Your session hit the maximum duration of 60 minutes." } },
    { type: "error", error: { type: "invalid_request_error", code: "response_cancel_not_active", message: "no active response" } },
    { type: "error", error: { type: "invalid_request_error", code: "invalid_event", message: "The 'type' field is missing." } },
  ]);
  const errors = of(effects, "error");
  assert.equal(errors.length, 2);
  assert.equal(errors[0].fatal, true);
  assert.match(errors[0].message, /maximum length/);
  assert.equal(errors[1].fatal, false);
  assert.match(errors[1].message, /The 'type' field is missing/);
});

test("a failed response is reported", () => {
  const { effects } = run([
    { type: "response.created", response: { id: "resp_R1", status: "in_progress", output: [] } },
    { type: "response.done", response: { id: "resp_R1", status: "failed", status_details: { type: "failed", error: { type: "server_error", code: "server_error", message: "Upstream hiccup" } }, output: [] } },
  ]);
  assert.match(of(effects, "error")[0].message, /Upstream hiccup/);
});

test("stop while the reply is playing stores what was heard so far", () => {
  const reply = assistantReply({ responseId: "resp_R1", itemId: "item_A1", prev: null, deltas: [LONG] });
  const { effects } = run([...reply.slice(0, 3), [reply[3], 1_000], ...reply.slice(4).map((e) => [e, 1_010]), [{ type: "local.flush" }, 3_000]]);
  const [turn] = posted(effects);
  assert.deepEqual([turn.status, turn.audio_end_ms], ["interrupted", 2000]);
});

test("stop while a tool runs stores the call as failed and sends nothing", () => {
  const { state } = run(twoCalls());
  const { effects } = run([{ type: "local.flush" }, { type: "local.tool_results", results }], state);
  const tools = posted(effects).filter((turn) => turn.role === "tool");
  assert.deepEqual(tools.map((turn) => [turn.item_id, turn.status]), [["item_F1", "failed"], ["item_F2", "failed"]]);
  assert.match(JSON.parse(tools[0].output).error, /ended/);
  assert.deepEqual(sent(effects), []);
});
