// GPT-Live data-channel events shaped as in openai.types.live (docs/gpt-live.md).
import { initialState, reduce } from "../../static/js/live-reducer.js";

export const SESSION_ID = "live_123";

// Feeds [event, now] pairs (or bare events, now = previous + 10) through reduce, running the
// grouper's timers in between as the page does.
export function run(events, state = initialState({ session: 2, sessionId: SESSION_ID }), { start = 1_000 } = {}) {
  const effects = [];
  let now = start;
  const step = (event, at) => {
    const result = reduce(state, event, at);
    state = result.state;
    effects.push(...result.effects);
  };
  for (const entry of events) {
    const [event, at] = Array.isArray(entry) ? entry : [entry, now + 10];
    for (let wake = state.grouper.wakeAt(now); wake != null && wake < at; wake = state.grouper.wakeAt(wake)) {
      step({ type: "local.tick" }, wake);
    }
    now = at;
    step(event, now);
  }
  return { state, effects };
}

export const of = (effects, type) => effects.filter((effect) => effect.type === type);
export const sent = (effects) => of(effects, "send").map((effect) => effect.event);
export const posted = (effects) => of(effects, "postTurn").map((effect) => effect.turn);

export const started = (expiresAt = 1_790_003_600) => ({
  type: "session.started",
  event_id: "event_001",
  session: { id: SESSION_ID, expires_at: expiresAt, model: "gpt-live-1", status: "active", instructions: "Be brief.", input: [], audio: { output: { voice: "marin" } } },
});

let seq = 100;
export const heard = (delta, start, end, id = `event_${++seq}`) => ({ type: "session.input_transcript.delta", event_id: id, delta, start_ms: start, end_ms: end });
export const said = (delta, start, end, id = `event_${++seq}`) => ({ type: "session.output_transcript.delta", event_id: id, delta, start_ms: start, end_ms: end });

export const delegated = (id, responseId) => ({
  type: "session.delegation.created",
  event_id: `event_${++seq}`,
  offset_ms: 5700,
  delegation: { id, type: "delegation", target: "responses", response_id: responseId },
});

const snapshot = (id, status, usage) => ({
  id,
  object: "response",
  created_at: 1_790_000_005,
  model: "gpt-5.6-luna",
  status,
  output: [],
  tools: [],
  tool_choice: "auto",
  parallel_tool_calls: false,
  instructions: null,
  ...(usage ? { usage } : {}),
});
const envelope = (delegationId, event) => ({ type: "response.event", event_id: `event_${++seq}`, delegation_id: delegationId, event });

export const backendCreated = (delegationId, responseId) => envelope(delegationId, { type: "response.created", sequence_number: 0, response: snapshot(responseId, "in_progress") });
export const backendCall = (delegationId, callId, args, name = "get_weather") =>
  envelope(delegationId, {
    type: "response.output_item.done",
    sequence_number: 4,
    output_index: 0,
    item: { type: "function_call", id: `fc_${callId}`, call_id: callId, name, arguments: args, status: "completed" },
  });
export const backendDone = (delegationId, responseId, usage, status = "completed") =>
  envelope(delegationId, { type: `response.${status}`, sequence_number: 5, response: snapshot(responseId, status, usage) });

export const backendUsage = (input, cached, output) => ({
  input_tokens: input,
  input_tokens_details: { cached_tokens: cached, cache_write_tokens: 0 },
  output_tokens: output,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: input + output,
});

export const usageUpdated = (usage) => ({ type: "session.usage.updated", event_id: `event_${++seq}`, usage });
export const closed = (reason, usage = { seconds: 94 }) => ({
  type: "session.closed",
  event_id: `event_${++seq}`,
  reason,
  session: { id: SESSION_ID, expires_at: 1_790_003_600, model: "gpt-live-1", status: "active" },
  usage,
});

// The weather question as GPT-Live delivers it (docs/gpt-live.md), up to the backend response that asks for the tool.
export function weatherQuestion({ callArgs = '{"location":"Amsterdam"}' } = {}) {
  return [
    started(),
    heard("What's the weather", 4200, 4900, "event_010"),
    heard(" in Amsterdam?", 4900, 5600, "event_011"),
    delegated("item_9tA2cB6n", "resp_A1"),
    said("Let me check that for you.", 5800, 7000, "event_013"),
    backendCreated("item_9tA2cB6n", "resp_A1"),
    backendCall("item_9tA2cB6n", "call_W1", callArgs),
    backendDone("item_9tA2cB6n", "resp_A1", backendUsage(812, 640, 24)),
  ];
}
