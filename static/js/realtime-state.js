// The reducer's state and the small immutable helpers its handlers share. Pure.
import { put } from "./turn-state.js";

export { selectTranscript } from "./turn-state.js";

export function initialState({ session = 1 } = {}) {
  return {
    session, // realtime session number within the conversation (from the mint response)
    nextPosition: 1, // creation order of items in this realtime session
    items: {}, // item id -> item (see announce)
    responses: {}, // response id -> response record (see newResponse)
    calls: {}, // call_id -> {callId, itemId, responseId, name, arguments, state}
    speech: {}, // user item id -> {startedAt, endedAt} from the VAD events
    activeResponseId: null,
    playingResponseId: null,
    responseCreatePending: false,
    userSpeaking: false,
    eventSeq: 0,
    config: null,
    rateLimits: null,
    ended: false,
  };
}

export function newResponse(id, now) {
  return {
    id,
    items: [],
    createdAt: now,
    done: false,
    status: "in_progress",
    audio: true,
    usage: null,
    audioStartedAt: null,
    audioEndedAt: null,
    speechAt: null,
    heardMs: null,
    cleared: false,
  };
}

export function putResponse(state, id, patch) {
  const current = state.responses[id] || newResponse(id, patch.createdAt ?? null);
  return { ...state, responses: { ...state.responses, [id]: { ...current, ...patch } } };
}

export function addToResponse(state, responseId, itemId) {
  if (!responseId) return state;
  const response = state.responses[responseId] || newResponse(responseId, null);
  if (response.items.includes(itemId)) return state;
  return putResponse(state, responseId, { items: [...response.items, itemId] });
}

// What kind of item a Realtime item object is, without its (possibly empty) content.
export function identity(item) {
  if (item.type === "function_call") {
    return { role: "tool", kind: "function_call", name: item.name, callId: item.call_id };
  }
  if (item.type === "message" && (item.role === "user" || item.role === "assistant")) {
    const typed = (item.content || []).some((part) => part.type === "input_text");
    return { role: item.role, kind: typed ? "text" : "audio" };
  }
  return { role: item.type === "message" ? item.role : "other", kind: item.type };
}

export function contentText(item) {
  return (item.content || [])
    .map((part) => part.text ?? part.transcript ?? "")
    .filter(Boolean)
    .join(" ");
}

// send(state, fx, event, "truncate") ids start with this: errors to them are benign.
export const TRUNCATE_EVENT_PREFIX = "voiceapp_truncate_";

// One word for the status pill.
export function selectActivity(state) {
  if (state.ended) return "idle";
  if (state.userSpeaking) return "hearing";
  if (state.playingResponseId) return "speaking";
  const toolsRunning = Object.values(state.calls).some((call) => call.state === "running");
  if (state.activeResponseId || toolsRunning) return "thinking";
  return "listening";
}
