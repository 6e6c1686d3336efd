// Reducer handlers for responses: streaming text, playback and barge-in, tool calls,
// and the single queued response.create. Pure; see docs/realtime-api.md, "Function calls".
import { allocateHeard, estimateAudioMs, heardText } from "./transcript.js";
import { addToResponse, contentText, identity, putResponse } from "./realtime-state.js";
import { announce, post, put, runToolsEffect, send, settleToolResults, toolsRunning } from "./turn-state.js";

// Asks for a response now, or after the active one is done (conversation_already_has_active_response).
export function requestResponse(state, fx) {
  if (state.activeResponseId) return { ...state, responseCreatePending: true };
  return send({ ...state, responseCreatePending: false }, fx, { type: "response.create" }, "response");
}

export function responseCreated(state, event, now) {
  const r = event.response || {};
  const audio = !r.output_modalities || r.output_modalities.includes("audio");
  const next = putResponse(state, r.id, { createdAt: now, audio, status: r.status || "in_progress" });
  return { ...next, activeResponseId: r.id };
}

function outputItem(state, item, responseId, now) {
  if (!item?.id) return state;
  const known = state.items[item.id];
  const fields = known ? { responseId } : { ...identity(item), responseId, status: "streaming" };
  let next = addToResponse(announce(state, item.id, undefined, fields, now), responseId, item.id);
  if (item.type === "function_call") {
    next = noteCall(next, { callId: item.call_id, itemId: item.id, responseId, name: item.name, arguments: item.arguments }, now);
  } else if (next.items[item.id].role === "assistant" && !next.items[item.id].generated) {
    const text = contentText(item);
    if (text) next = put(next, item.id, { generated: text, text });
  }
  return next;
}

export function outputItemEvent(state, event, now) {
  return outputItem(state, event.item, event.response_id, now);
}

export function textDelta(state, event, now) {
  let next = state;
  if (!next.items[event.item_id]) {
    next = outputItem(next, { id: event.item_id, type: "message", role: "assistant" }, event.response_id, now);
  }
  const generated = next.items[event.item_id].generated + (event.delta || "");
  return put(next, event.item_id, { generated, text: generated });
}

export function textDone(state, event, now) {
  const full = event.transcript ?? event.text;
  if (typeof full !== "string") return state;
  let next = state;
  if (!next.items[event.item_id]) {
    next = outputItem(next, { id: event.item_id, type: "message", role: "assistant" }, event.response_id, now);
  }
  return put(next, event.item_id, { generated: full, text: full });
}

// The same call shows up in arguments.done, output_item.done and response.done: merge by call_id.
export function noteCall(state, call, now) {
  if (!call.callId) return state;
  const existing = state.calls[call.callId];
  const merged = { state: "pending", ...existing };
  for (const [key, value] of Object.entries(call)) if (value != null && value !== "") merged[key] = value;
  let next = { ...state, calls: { ...state.calls, [call.callId]: merged } };
  if (merged.itemId) {
    const fields = { role: "tool", kind: "function_call", name: merged.name, callId: merged.callId, arguments: merged.arguments, responseId: merged.responseId };
    next = addToResponse(announce(next, merged.itemId, undefined, fields, now), merged.responseId, merged.itemId);
  }
  return next;
}

export function argumentsDone(state, event, now) {
  return noteCall(state, { callId: event.call_id, itemId: event.item_id, responseId: event.response_id, name: event.name, arguments: event.arguments }, now);
}

export function responseDone(state, event, now, fx) {
  const r = event.response || {};
  let next = state;
  for (const item of r.output || []) next = outputItem(next, item, r.id, now);
  next = putResponse(next, r.id, { done: true, doneAt: now, status: r.status, reason: r.status_details?.reason ?? null, usage: r.usage ?? null });
  if (next.activeResponseId === r.id) next = { ...next, activeResponseId: null };
  const first = next.responses[r.id].items[0];
  if (first && r.usage) next = put(next, first, { usage: r.usage });
  if (r.status === "failed") {
    const detail = r.status_details?.error?.message;
    fx.push({ type: "error", fatal: false, message: detail ? `The reply failed: ${detail}` : "The reply failed. Try asking again." });
  }

  const calls = Object.values(next.calls).filter((c) => c.responseId === r.id && c.state === "pending");
  const run = r.status === "completed" || r.status === "incomplete";
  for (const call of calls) {
    next = { ...next, calls: { ...next.calls, [call.callId]: { ...call, state: run ? "running" : "skipped" } } };
    if (!call.itemId) continue;
    next = put(next, call.itemId, run ? { status: "running" } : { status: "interrupted", endedAt: now });
    if (!run) next = post(next, fx, call.itemId);
  }
  if (run && calls.length) {
    fx.push(runToolsEffect(calls));
  }

  next = finalizeResponse(next, r.id, now, fx);
  if (next.responseCreatePending && !toolsRunning(next) && !next.ended) next = requestResponse(next, fx);
  return next;
}

// One function_call_output per call, then exactly one response.create (docs/realtime-api.md, "Function calls").
export function toolResults(state, event, now, fx) {
  const sendOutput = (next, call, result) => {
    if (next.ended) return null;
    const item = { type: "function_call_output", call_id: call.callId, output: result.output };
    return send(next, fx, { type: "conversation.item.create", item }, "tool");
  };
  const { state: next, sent } = settleToolResults(state, event.results, now, fx, sendOutput);
  return sent && !toolsRunning(next) ? requestResponse(next, fx) : next;
}

function audioItems(state, response) {
  return response.items.map((id) => state.items[id]).filter((item) => item && item.role === "assistant");
}

export function audioStarted(state, event, now, fx) {
  let next = state;
  const previous = next.playingResponseId;
  if (previous && previous !== event.response_id) next = audioStopped(next, { response_id: previous }, now, fx);
  next = putResponse(next, event.response_id, { audioStartedAt: now });
  return { ...next, playingResponseId: event.response_id };
}

export function audioStopped(state, event, now, fx) {
  const response = state.responses[event.response_id];
  let next = state.playingResponseId === event.response_id ? { ...state, playingResponseId: null } : state;
  if (!response || response.audioEndedAt != null) return next;
  next = putResponse(next, response.id, { audioEndedAt: now });
  return finalizeResponse(next, response.id, now, fx);
}

// Barge-in: the reply's queued audio was dropped. Heard = started → (speech_started or cleared).
export function audioCleared(state, event, now, fx) {
  const response = state.responses[event.response_id];
  let next = state.playingResponseId === event.response_id ? { ...state, playingResponseId: null } : state;
  if (!response || response.audioEndedAt != null) return next;
  const started = response.audioStartedAt;
  const heardMs = started == null ? 0 : Math.max(0, (response.speechAt ?? now) - started);
  next = putResponse(next, response.id, { cleared: true, heardMs, audioEndedAt: now });
  if (started != null) next = truncatePlayingItem(next, next.responses[response.id], heardMs, fx);
  return finalizeResponse(next, response.id, now, fx);
}

// WebRTC truncates on its own (docs/realtime-api.md, "Transcripts and their order"); we still
// tell it what was played, capped to the item's audio. Errors to this event are benign (handled by its event_id prefix).
function truncatePlayingItem(state, response, heardMs, fx) {
  const items = audioItems(state, response);
  if (!items.length) return state;
  const durations = items.map((item) => estimateAudioMs(item.generated));
  const parts = allocateHeard(durations, heardMs);
  let index = parts.findIndex((part, i) => part < durations[i]);
  if (index === -1) index = items.length - 1;
  const audioEndMs = durations[index] > 0 ? Math.min(parts[index] || heardMs, durations[index]) : Math.round(heardMs);
  return send(state, fx, { type: "conversation.item.truncate", item_id: items[index].id, content_index: 0, audio_end_ms: Math.round(audioEndMs) }, "truncate");
}

// The server's own truncation (if it reports one) is the best measure of what was heard.
// It comes first; a later one is only the echo of our own truncate, so the first one wins.
export function itemTruncated(state, event, now, fx) {
  const item = state.items[event.item_id];
  if (!item || item.role !== "assistant" || item.serverHeardMs != null) return state;
  let next = put(state, item.id, { serverHeardMs: event.audio_end_ms });
  const response = next.responses[item.responseId];
  if (response) next = finalizeResponse(next, response.id, now, fx);
  return next;
}

// Writes the final status and text of a response's messages once both the text (response.done)
// and the playback (stopped / cleared, or no audio at all) are settled, then posts them.
export function finalizeResponse(state, responseId, now, fx) {
  const response = state.responses[responseId];
  if (!response || !response.done) return state;
  if (response.audioStartedAt != null && response.audioEndedAt == null) return state;
  const items = audioItems(state, response);
  const interrupted = response.cleared || response.status === "cancelled";
  const started = response.audioStartedAt;
  const endedAt = response.audioEndedAt ?? response.doneAt ?? now;
  let next = state;
  if (interrupted) {
    let heard = response.heardMs ?? (started == null ? 0 : endedAt - started);
    if (started == null && !response.audio) heard = Infinity; // a text-only reply was read in full
    const parts = allocateHeard(items.map((item) => estimateAudioMs(item.generated)), heard);
    items.forEach((item, i) => {
      const heardMs = item.serverHeardMs ?? parts[i];
      next = put(next, item.id, {
        status: "interrupted",
        text: heardText(item.generated, heardMs),
        audioEndMs: Number.isFinite(heardMs) ? heardMs : null,
        startedAt: started ?? item.startedAt,
        endedAt,
      });
    });
  } else {
    for (const item of items) {
      next = put(next, item.id, { status: "completed", text: item.generated, startedAt: started ?? item.startedAt, endedAt });
    }
  }
  for (const item of items) next = post(next, fx, item.id);
  return next;
}

// Stop / page hide: settle whatever is still open with what we have.
export function flushResponses(state, now, fx) {
  let next = state;
  for (const response of Object.values(state.responses)) {
    if (!response.done) next = putResponse(next, response.id, { done: true, doneAt: now, status: "cancelled" });
    const current = next.responses[response.id];
    if (current.audioStartedAt != null && current.audioEndedAt == null) {
      const played = now - current.audioStartedAt;
      const total = audioItems(next, current).reduce((sum, item) => sum + estimateAudioMs(item.generated), 0);
      const cut = played < total;
      next = putResponse(next, response.id, { audioEndedAt: now, cleared: cut, heardMs: cut ? played : null });
    }
    next = finalizeResponse(next, response.id, now, fx);
  }
  for (const call of Object.values(next.calls)) {
    if (call.state !== "running") continue;
    next = { ...next, calls: { ...next.calls, [call.callId]: { ...call, state: "done" } } };
    if (!call.itemId) continue;
    const output = JSON.stringify({ error: "The conversation ended before the tool finished." });
    next = put(next, call.itemId, { status: "failed", output, endedAt: now });
    next = post(next, fx, call.itemId);
  }
  return { ...next, activeResponseId: null, playingResponseId: null };
}
