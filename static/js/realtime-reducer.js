// reduce(state, event, now) -> {state, effects}: Realtime server events (GA names, see
// docs/realtime-api.md, "Events the page relies on") and a few local events ("local.*") in,
// transcript state and effects out.
// Effects: {type: "send", event} | {type: "postTurn", turn} | {type: "runTools", calls}
//        | {type: "error", message, fatal, code} | {type: "notice", message}. Pure: no DOM, no I/O.
// live-reducer.js has the same contract for GPT-Live.
import { isFatalRealtimeError, realtimeErrorMessage } from "./messages.js";
import {
  argumentsDone,
  audioCleared,
  audioStarted,
  audioStopped,
  flushResponses,
  itemTruncated,
  outputItemEvent,
  requestResponse,
  responseCreated,
  responseDone,
  textDelta,
  textDone,
  toolResults,
} from "./realtime-responses.js";
import { TRUNCATE_EVENT_PREFIX, contentText, identity, putResponse } from "./realtime-state.js";
import { announce, post, put, reducerFor, send } from "./turn-state.js";

export { initialState, selectActivity, selectTranscript } from "./realtime-state.js";

// The Realtime API has no timers of ours, no goodbye handshake, and its cap is the page's
// configured limit (the client secret's expires_at is the key's, not the session's).
export const selectWakeAt = () => null;
export const selectClosing = () => false;
export const selectExpiresAt = () => null;

const TRANSCRIPTION_OFF =
  "Speech-to-text is off for this session, so your spoken words will not appear in the transcript.";

function sessionEvent(state, event, now, fx) {
  const config = event.session || null;
  const input = config?.audio?.input;
  if (event.type === "session.created" && input && input.transcription == null) {
    fx.push({ type: "notice", message: TRANSCRIPTION_OFF });
  }
  return { ...state, config };
}

function speechStarted(state, event, now) {
  let next = { ...state, userSpeaking: true, speech: { ...state.speech, [event.item_id]: { startedAt: now } } };
  const playing = next.playingResponseId && next.responses[next.playingResponseId];
  if (playing && playing.speechAt == null) next = putResponse(next, playing.id, { speechAt: now });
  return next;
}

function speechStopped(state, event, now) {
  const speech = { ...state.speech, [event.item_id]: { ...state.speech[event.item_id], endedAt: now } };
  return { ...state, userSpeaking: false, speech };
}

function committed(state, event, now) {
  const speech = state.speech[event.item_id] || {};
  const fields = { role: "user", kind: "audio", startedAt: speech.startedAt ?? now, endedAt: speech.endedAt ?? now };
  return { ...announce(state, event.item_id, event.previous_item_id ?? null, fields, now), userSpeaking: false };
}

// conversation.item.added / .done (and the beta .created, accepted defensively).
function itemEvent(state, event, now, fx) {
  const item = event.item;
  if (!item?.id) return state;
  const prev = "previous_item_id" in event ? event.previous_item_id : undefined;
  const known = state.items[item.id];
  let next = announce(state, item.id, prev, known ? {} : identity(item), now);
  const current = next.items[item.id];
  const text = contentText(item);
  if (current.role === "user" && current.status === "pending") {
    if (current.kind === "text" || text) {
      next = put(next, item.id, { text, generated: text, status: "completed", endedAt: current.endedAt ?? now });
      next = post(next, fx, item.id);
    }
  } else if (current.role === "assistant" && text && !current.generated) {
    next = put(next, item.id, { generated: text, text });
  }
  if (current.role === "assistant" && current.status === "pending") next = put(next, item.id, { status: "streaming" });
  return next;
}

function ensureUserItem(state, id, now) {
  return state.items[id] ? state : announce(state, id, undefined, { role: "user", kind: "audio" }, now);
}

function transcriptionDelta(state, event, now) {
  const next = ensureUserItem(state, event.item_id, now);
  const item = next.items[event.item_id];
  if (item.status === "completed" || item.status === "failed") return next;
  return put(next, item.id, { text: item.text + (event.delta || ""), status: "transcribing" });
}

function transcriptionCompleted(state, event, now, fx) {
  const next = ensureUserItem(state, event.item_id, now);
  const text = event.transcript ?? next.items[event.item_id].text;
  return post(put(next, event.item_id, { text, generated: text, status: "completed" }), fx, event.item_id);
}

function transcriptionFailed(state, event, now, fx) {
  const next = ensureUserItem(state, event.item_id, now);
  return post(put(next, event.item_id, { status: "failed" }), fx, event.item_id);
}

function errorEvent(state, event, now, fx) {
  const error = event.error || {};
  if (error.code === "conversation_already_has_active_response") {
    // Our response.create raced a VAD response: ask again once the active one is done.
    return state.activeResponseId ? { ...state, responseCreatePending: true } : requestResponse(state, fx);
  }
  if (String(error.event_id || "").startsWith(TRUNCATE_EVENT_PREFIX)) return state;
  const message = realtimeErrorMessage(error);
  if (message) fx.push({ type: "error", message, fatal: isFatalRealtimeError(error), code: error.code ?? null });
  return state;
}

function sendText(state, event, now, fx) {
  const text = (event.text || "").trim();
  if (!text || state.ended) return state;
  const item = { type: "message", role: "user", content: [{ type: "input_text", text }] };
  return requestResponse(send(state, fx, { type: "conversation.item.create", item }, "text"), fx);
}

function flush(state, now, fx) {
  let next = flushResponses(state, now, fx);
  for (const item of Object.values(next.items)) {
    if (item.role !== "user" || (item.status !== "pending" && item.status !== "transcribing")) continue;
    next = post(put(next, item.id, { status: item.text ? "completed" : "failed" }), fx, item.id);
  }
  return { ...next, ended: true, userSpeaking: false };
}

const HANDLERS = {
  "session.created": sessionEvent,
  "session.updated": sessionEvent,
  "input_audio_buffer.speech_started": speechStarted,
  "input_audio_buffer.speech_stopped": speechStopped,
  "input_audio_buffer.committed": committed,
  "input_audio_buffer.cleared": (state) => ({ ...state, userSpeaking: false }),
  "conversation.item.added": itemEvent,
  "conversation.item.created": itemEvent,
  "conversation.item.done": itemEvent,
  "conversation.item.truncated": itemTruncated,
  "conversation.item.input_audio_transcription.delta": transcriptionDelta,
  "conversation.item.input_audio_transcription.completed": transcriptionCompleted,
  "conversation.item.input_audio_transcription.failed": transcriptionFailed,
  "response.created": responseCreated,
  "response.output_item.added": outputItemEvent,
  "response.output_item.done": outputItemEvent,
  "response.output_audio_transcript.delta": textDelta,
  "response.output_text.delta": textDelta,
  "response.output_audio_transcript.done": textDone,
  "response.output_text.done": textDone,
  "response.function_call_arguments.done": argumentsDone,
  "response.done": responseDone,
  "output_audio_buffer.started": audioStarted,
  "output_audio_buffer.stopped": audioStopped,
  "output_audio_buffer.cleared": audioCleared,
  "rate_limits.updated": (state, event) => ({ ...state, rateLimits: event.rate_limits || null }),
  error: errorEvent,
  "local.send_text": sendText,
  "local.tool_results": toolResults,
  "local.flush": (state, event, now, fx) => flush(state, now, fx),
};

export const reduce = reducerFor(HANDLERS);
