// Shared fixtures for the reducer tests: GA-shaped server events (docs/realtime-api.md, "Events the page relies on").
import { initialState, reduce } from "../../static/js/realtime-reducer.js";

// Feeds [event, now] pairs (or bare events, now = previous + 10) through reduce.
export function run(events, state = initialState({ session: 1 })) {
  const effects = [];
  let now = 1_000;
  for (const entry of events) {
    const [event, at] = Array.isArray(entry) ? entry : [entry, now + 10];
    now = at;
    const result = reduce(state, event, now);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

export const of = (effects, type) => effects.filter((effect) => effect.type === type);
export const sent = (effects) => of(effects, "send").map((effect) => effect.event);
export const posted = (effects) => of(effects, "postTurn").map((effect) => effect.turn);

export const USAGE = {
  total_tokens: 253,
  input_tokens: 132,
  output_tokens: 121,
  input_token_details: { text_tokens: 119, audio_tokens: 13, image_tokens: 0, cached_tokens: 64 },
  output_token_details: { text_tokens: 30, audio_tokens: 91 },
};

export function userSpeech(id, prev) {
  return [
    { type: "input_audio_buffer.speech_started", audio_start_ms: 1000, item_id: id },
    { type: "input_audio_buffer.speech_stopped", audio_end_ms: 2000, item_id: id },
    { type: "input_audio_buffer.committed", previous_item_id: prev, item_id: id },
    {
      type: "conversation.item.added",
      previous_item_id: prev,
      item: { id, object: "realtime.item", type: "message", status: "completed", role: "user", content: [{ type: "input_audio", transcript: null }] },
    },
  ];
}

export const assistantItem = (id, content = []) => ({
  id,
  object: "realtime.item",
  type: "message",
  status: "in_progress",
  role: "assistant",
  content,
});

export const functionCall = (id, callId, args, name = "get_weather") => ({
  id,
  object: "realtime.item",
  type: "function_call",
  status: "completed",
  name,
  call_id: callId,
  arguments: args,
});

// A spoken reply: created → item → audio started → deltas → done → response.done.
export function assistantReply({ responseId, itemId, prev, deltas, status = "completed", usage = USAGE }) {
  const text = deltas.join("");
  return [
    { type: "response.created", response: { id: responseId, status: "in_progress", output: [], output_modalities: ["audio"] } },
    { type: "response.output_item.added", response_id: responseId, output_index: 0, item: assistantItem(itemId) },
    { type: "conversation.item.added", previous_item_id: prev, item: assistantItem(itemId) },
    { type: "output_audio_buffer.started", response_id: responseId },
    ...deltas.map((delta) => ({ type: "response.output_audio_transcript.delta", response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta })),
    { type: "response.output_audio_transcript.done", response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, transcript: text },
    {
      type: "response.done",
      response: {
        id: responseId,
        status,
        status_details: null,
        output: [{ ...assistantItem(itemId, [{ type: "output_audio", transcript: text }]), status: "completed" }],
        usage,
      },
    },
  ];
}
