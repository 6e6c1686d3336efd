// Transcript items shared by both upstream reducers: registering an item (which fixes its
// position), patching it, posting it as a turn, queueing client events, settling tool results,
// and the dispatch from an event's type to its handler. Pure; knows no upstream's event names.
import { conversationOrder, isStored, toTurn } from "./transcript.js";

export function put(state, id, patch) {
  return { ...state, items: { ...state.items, [id]: { ...state.items[id], ...patch } } };
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

// Queues a client event for the data channel, with an event_id the server echoes on errors.
export function send(state, fx, event, kind = "event") {
  const eventSeq = state.eventSeq + 1;
  fx.push({ type: "send", event: { event_id: `voiceapp_${kind}_${eventSeq}`, ...event } });
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

// The calls a runTools effect hands to tools.js.
export function runToolsEffect(calls) {
  return { type: "runTools", calls: calls.map(({ callId, itemId, name, arguments: args }) => ({ callId, itemId, name, arguments: args || "" })) };
}

export const toolsRunning = (state) => Object.values(state.calls).some((call) => call.state === "running");

// {type: "local.tool_results", results: [{callId, ok, output, text}]} from tools.js: each result of
// a running call marks it done and stores its turn. sendOutput(state, call, result) hands the
// output to the upstream in its own vocabulary and returns the new state, or null when the
// session can no longer take it. Returns the state and how many outputs were sent.
export function settleToolResults(state, results, now, fx, sendOutput) {
  let next = state;
  let sent = 0;
  for (const result of results || []) {
    const call = next.calls[result.callId];
    if (!call || call.state !== "running") continue;
    next = { ...next, calls: { ...next.calls, [call.callId]: { ...call, state: "done" } } };
    if (call.itemId) {
      const status = result.ok === false ? "failed" : "completed";
      next = put(next, call.itemId, { output: result.output, text: result.text || "", status, endedAt: now });
      next = post(next, fx, call.itemId);
    }
    const afterSend = sendOutput(next, call, result);
    if (afterSend === null) continue;
    next = afterSend;
    sent += 1;
  }
  return { state: next, sent };
}

// reduce(state, event, now) -> {state, effects} from a table of handlers keyed by event type;
// each handler is (state, event, now, effects) -> state and pushes its effects. Unknown events
// change nothing.
export function reducerFor(handlers) {
  return function reduce(state, event, now = Date.now()) {
    const handler = Object.hasOwn(handlers, event?.type ?? "") ? handlers[event.type] : null;
    if (!handler) return { state, effects: [] };
    const effects = [];
    return { state: handler(state, event, now, effects), effects };
  };
}
