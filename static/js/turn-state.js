// Transcript items shared by both upstream reducers: registering an item (which fixes its
// position), patching it, posting it as a turn, and queueing client events. Pure.
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
