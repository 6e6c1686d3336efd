// GPT-Live reducer: transcript turns, delegated tool calls, usage snapshots, stop and close.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  initialState,
  reduce,
  selectActivity,
  selectClosing,
  selectExpiresAt,
  selectTranscript,
} from "../../static/js/live-reducer.js";
import { createTools, runToolCalls } from "../../static/js/tools.js";
import {
  SESSION_ID,
  backendCall,
  backendCreated,
  backendDone,
  backendUsage,
  closed,
  delegated,
  heard,
  of,
  posted,
  run,
  said,
  sent,
  started,
  usageUpdated,
  weatherQuestion,
} from "./live-helpers.mjs";

const AMSTERDAM = { callId: "call_W1", ok: true, output: '{"location":"Amsterdam","temperature":11}', text: "Amsterdam: 11 °C" };

test("a spoken weather question: user, acknowledgement, tool, answer, in order with stable ids", () => {
  const question = run(weatherQuestion());
  assert.deepEqual(of(question.effects, "runTools"), [
    { type: "runTools", calls: [{ callId: "call_W1", itemId: "call_W1", name: "get_weather", arguments: '{"location":"Amsterdam"}' }] },
  ]);
  assert.equal(selectActivity(question.state), "thinking");

  const answer = run(
    [
      { type: "local.tool_results", results: [AMSTERDAM] },
      said("It's eleven degrees with light rain in Amsterdam.", 9100, 11600, "event_023"),
      [{ type: "local.tick" }, 8_000], // 5 s of assistant silence close the answer
    ],
    question.state,
    { start: 1_200 },
  );
  const turns = [...posted(question.effects), ...posted(answer.effects)];
  assert.deepEqual(
    turns.map((turn) => [turn.item_id, turn.previous_item_id, turn.session, turn.position, turn.role, turn.text]),
    [
      [`${SESSION_ID}:event_010`, null, 2, 1, "user", "What's the weather in Amsterdam?"],
      [`${SESSION_ID}:event_013`, `${SESSION_ID}:event_010`, 2, 2, "assistant", "Let me check that for you."],
      ["call_W1", `${SESSION_ID}:event_013`, 2, 3, "tool", "Amsterdam: 11 °C"],
      [`${SESSION_ID}:event_023`, "call_W1", 2, 4, "assistant", "It's eleven degrees with light rain in Amsterdam."],
    ],
  );
  const tool = turns[2];
  assert.deepEqual([tool.name, tool.call_id, tool.arguments, tool.output, tool.status], ["get_weather", "call_W1", '{"location":"Amsterdam"}', AMSTERDAM.output, "completed"]);
  assert.deepEqual(selectTranscript(answer.state).map((entry) => entry.role), ["user", "assistant", "tool", "assistant"]);
  assert.equal(selectActivity(answer.state), "listening");
});

test("each result goes back as one response.item.create, then exactly one response.create", () => {
  const { state } = run([
    ...weatherQuestion().slice(0, -2),
    backendCall("item_9tA2cB6n", "call_W1", '{"location":"Paris"}'),
    backendCall("item_9tA2cB6n", "call_W2", '{"location":"Berlin"}'),
    backendDone("item_9tA2cB6n", "resp_A1", backendUsage(900, 0, 40)),
  ]);
  const results = [
    { callId: "call_W1", ok: true, output: '{"location":"Paris"}', text: "Paris: 12 °C" },
    { callId: "call_W2", ok: true, output: '{"location":"Berlin"}', text: "Berlin: 8 °C" },
  ];
  const { effects } = run([{ type: "local.tool_results", results }, { type: "local.tool_results", results }], state);
  assert.deepEqual(sent(effects), [
    { event_id: "voiceapp_tool_1", type: "response.item.create", item: { type: "function_call_output", call_id: "call_W1", output: results[0].output } },
    { event_id: "voiceapp_tool_2", type: "response.item.create", item: { type: "function_call_output", call_id: "call_W2", output: results[1].output } },
    { event_id: "voiceapp_response_3", type: "response.create" },
  ]);
  assert.deepEqual(posted(effects).map((turn) => [turn.item_id, turn.position]), [["call_W1", 3], ["call_W2", 4]]);
});

test("calls wait for their backend response to end; a repeated call event runs nothing twice", () => {
  const events = weatherQuestion();
  const before = run(events.slice(0, -1));
  assert.deepEqual(of(before.effects, "runTools"), []);
  const after = run([events.at(-1), events.at(-2), events.at(-1)], before.state);
  assert.equal(of(after.effects, "runTools").length, 1);
});

test("malformed arguments get an error output sent back, never an exception", async () => {
  const { state } = run(weatherQuestion({ callArgs: '{"location": "Amst' }));
  const tools = createTools({ getWeather: async () => assert.fail("must not be called") });
  const [call] = Object.values(state.calls);
  const results = await runToolCalls(tools, [call]);
  const { effects } = run([{ type: "local.tool_results", results }], state);
  const [output, create] = sent(effects);
  assert.equal(output.type, "response.item.create");
  assert.deepEqual(JSON.parse(output.item.output), { error: "The tool arguments were not valid JSON." });
  assert.equal(create.type, "response.create");
  assert.equal(posted(effects)[0].status, "failed");
});

test("backend tokens: counted once per response id, summed per delegation, posted with the tool turn", () => {
  const { state } = run(weatherQuestion());
  const continued = backendDone("item_9tA2cB6n", "resp_A2", backendUsage(900, 800, 30));
  const { effects } = run(
    [
      { type: "local.tool_results", results: [AMSTERDAM] },
      backendCreated("item_9tA2cB6n", "resp_A2"),
      continued,
      continued, // delivered twice: still counted once
      backendDone("item_9tA2cB6n", "resp_A1", backendUsage(812, 640, 24)), // and the first one again
    ],
    state,
  );
  const toolPosts = posted(effects).filter((turn) => turn.item_id === "call_W1");
  assert.deepEqual(toolPosts.at(0).usage, backendUsage(812, 640, 24)); // the first response, at once
  assert.deepEqual(toolPosts.at(-1).usage, {
    input_tokens: 1712,
    input_tokens_details: { cached_tokens: 1440, cache_write_tokens: 0 },
    output_tokens: 54,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 1766,
  });
  assert.equal(toolPosts.length, 2); // the upsert after the continuation, nothing for the repeats
});

test("session seconds are snapshots: each update and the final one are posted as they are", () => {
  const { effects } = run([
    started(),
    usageUpdated({ seconds: 60 }),
    usageUpdated({ seconds: 75, active_seconds: 60, paused_seconds: 15 }),
    { type: "local.stop" },
    closed("close_requested", { seconds: 94, active_seconds: 79, paused_seconds: 15 }),
  ]);
  assert.deepEqual(of(effects, "postUsage").map((effect) => effect.usage), [
    { session: 2, seconds: 60 },
    { session: 2, seconds: 75, active_seconds: 60, paused_seconds: 15 },
    { session: 2, seconds: 94, active_seconds: 79, paused_seconds: 15 },
  ]);
});

test("stop sends session.close once and waits for session.closed; our own close is not an ending", () => {
  const { state, effects } = run([started(), heard("Bye", 100, 400), { type: "local.stop" }, { type: "local.stop" }]);
  assert.deepEqual(sent(effects).map((event) => event.type), ["session.close"]);
  assert.equal(selectClosing(state), true);
  const after = run([closed("close_requested")], state);
  assert.equal(selectClosing(after.state), false);
  assert.deepEqual(of(after.effects, "ended"), []);
  assert.deepEqual(posted(after.effects).map((turn) => [turn.role, turn.text]), [["user", "Bye"]]);
  assert.equal(selectActivity(after.state), "idle");
});

test("a session the upstream closes says why, posts what was said, and reports the ending", () => {
  for (const [reason, words] of [["expired", "maximum length"], ["connection_lost", "lost the connection"], ["content", "content policy"], ["remote_hangup", "ended the session"]]) {
    const { effects } = run([started(), heard("Are you there", 100, 900), closed(reason)]);
    const [ended] = of(effects, "ended");
    assert.equal(ended.reason, reason);
    assert.match(ended.message, new RegExp(words));
    assert.match(ended.message, /\.$/);
    assert.deepEqual(posted(effects).map((turn) => turn.text), ["Are you there"]);
  }
});

test("error events read as sentences and do not end the session", () => {
  const { state, effects } = run([
    started(),
    { type: "error", event_id: "event_040", error: { type: "invalid_request_error", code: "unknown_parameter", message: "Unknown parameter: 'session.voice'.", param: "session.voice", client_event_id: "x" } },
    { type: "error", event_id: "event_041", error: { type: "server_error", code: null, message: "" } },
  ]);
  assert.deepEqual(of(effects, "error"), [
    { type: "error", fatal: false, message: "The voice service reported a problem: Unknown parameter: 'session.voice'." },
    { type: "error", fatal: false, message: "The voice service reported a problem. Try again, or press Stop and Start." },
  ]);
  assert.equal(selectActivity(state), "listening");
});

test("a typed message becomes a user turn and goes to the backend, then one response.create", () => {
  const { effects } = run([started(), heard("Hmm", 100, 300, "event_hmm"), { type: "local.send_text", text: "  weather in Tokyo " }]);
  assert.deepEqual(sent(effects), [
    { event_id: "voiceapp_text_1", type: "response.item.create", item: { type: "message", role: "user", content: [{ type: "input_text", text: "weather in Tokyo" }] } },
    { event_id: "voiceapp_response_2", type: "response.create" },
  ]);
  assert.deepEqual(posted(effects).map((turn) => [turn.item_id, turn.role, turn.text, turn.position]), [
    [`${SESSION_ID}:event_hmm`, "user", "Hmm", 1],
    [`${SESSION_ID}:voiceapp_text_1`, "user", "weather in Tokyo", 2],
  ]);
});

test("nothing is sent before session.started", () => {
  const { effects } = run([{ type: "local.send_text", text: "hello" }, { type: "local.mute", muted: true }, { type: "local.stop" }], initialState({ session: 1, sessionId: "live_9" }));
  assert.deepEqual(effects, []);
});

test("mute and unmute are sent to the session", () => {
  const { effects } = run([started(), { type: "local.mute", muted: true }, { type: "local.mute", muted: false }]);
  assert.deepEqual(sent(effects).map((event) => event.type), ["session.input_audio.mute", "session.input_audio.unmute"]);
});

test("session.expires_at drives the page's timer", () => {
  const { state } = run([started(1_790_003_600)]);
  assert.equal(selectExpiresAt(state), 1_790_003_600_000);
});

test("flush (stop, reconnect, page hide) posts the open turn and fails a tool that never answered", () => {
  const { state } = run(weatherQuestion());
  const { effects } = run([said("Still checking", 8000, 8600), { type: "local.flush" }], state);
  const turns = posted(effects);
  assert.deepEqual(turns.map((turn) => [turn.role, turn.status]), [["assistant", "completed"], ["tool", "failed"]]);
  assert.match(JSON.parse(turns[1].output).error, /ended before the tool finished/);
});

test("reduce leaves the state it was given untouched", () => {
  const { state } = run([started(), heard("What is", 0, 400), [{ type: "local.tick" }, 1_100]]);
  const frozen = JSON.stringify(selectTranscript(state));
  reduce(state, heard(" the time", 400, 800), 2_000);
  reduce(state, { type: "local.flush" }, 2_000);
  assert.equal(JSON.stringify(selectTranscript(state)), frozen);
  assert.equal(state.grouper.speaker, "user");
});
