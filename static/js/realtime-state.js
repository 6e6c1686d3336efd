// The reducer's state and the small immutable helpers its handlers share. Pure.
import { conversationOrder, isStored, toTurn } from "./transcript.js";

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

export function put(state, id, patch) {
  return { ...state, items: { ...state.items, [id]: { ...state.items[id], ...patch } } };
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

// Registers an item the first time any event mentions it; that moment fixes its position.
// `prev` is undefined when the event does not say (response.output_item.added).
export function announce(state, id, prev, fields, now) {
  const existing = state.items[id];
  if (existing) {
    const patch = { ...fields };
    if (prev !== undefined && existing.prev === undefined) patch.prev = prev;
    return put(state, id, patch);
  }
  const item = {
    id,
    prev,
    position: state.nextPosition,
    role: "other",
    text: "",
    generated: "",
    status: "pending",
    startedAt: now,
    endedAt: null,
    ...fields,
  };
  return { ...state, nextPosition: state.nextPosition + 1, items: { ...state.items, [id]: item } };
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

// Queues a postTurn effect unless the same payload was already posted.
export function post(state, fx, id) {
  const item = state.items[id];
  if (!item || !isStored(item)) return state;
  const turn = toTurn(item, { items: state.items, session: state.session });
  const signature = JSON.stringify(turn);
  if (signature === item.postedSignature) return state;
  fx.push({ type: "postTurn", turn });
  return put(state, id, { postedSignature: signature });
}

export const TRUNCATE_EVENT_PREFIX = "voiceapp_truncate_";

// Queues a client event for the data channel, with an event_id the server echoes on errors.
export function send(state, fx, event, kind = "event") {
  const eventSeq = state.eventSeq + 1;
  const prefix = kind === "truncate" ? TRUNCATE_EVENT_PREFIX : `voiceapp_${kind}_`;
  fx.push({ type: "send", event: { event_id: `${prefix}${eventSeq}`, ...event } });
  return { ...state, eventSeq };
}

export function selectTranscript(state) {
  return conversationOrder(state.items)
    .filter(isStored)
    .map(({ id, role, text, status, name, arguments: args, output }) => ({
      id,
      role,
      text,
      status,
      name,
      arguments: args,
      output,
    }));
}

// One word for the status pill.
export function selectActivity(state) {
  if (state.ended) return "idle";
  if (state.userSpeaking) return "hearing";
  if (state.playingResponseId) return "speaking";
  const toolsRunning = Object.values(state.calls).some((call) => call.state === "running");
  if (state.activeResponseId || toolsRunning) return "thinking";
  return "listening";
}
