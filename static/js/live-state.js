// The GPT-Live reducer's state, transcript segments as items, and the selectors. Pure.
import { TranscriptGrouper } from "./live-transcript.js";
import { announce, post, put } from "./turn-state.js";

export { selectTranscript } from "./turn-state.js";

export function initialState({ session = 1, sessionId = "" } = {}) {
  return {
    session, // session number within the conversation (from the session start response)
    sessionId, // GPT-Live's session id ("live_…"): the prefix of every transcript item id
    nextPosition: 1, // creation order of items in this session
    lastItemId: null, // the item announced last: the next one's previous_item_id
    items: {}, // item id -> item (turn-state.js announce)
    grouper: new TranscriptGrouper(sessionId),
    delegations: {}, // delegation id -> {responseId, usage, counted, usageItemId}
    responses: {}, // backend response id -> {delegationId, done}
    calls: {}, // call_id -> {callId, itemId, delegationId, responseId, name, arguments, state}
    usage: null, // the latest session.usage.updated snapshot (cumulative seconds)
    eventSeq: 0,
    started: false, // session.started arrived: only then may we send
    startedAt: null, // local time of session.started: transcript times are relative to it
    expiresAt: null, // ms, from session.expires_at
    closing: false, // session.close sent, session.closed not yet received
    closeRequested: false,
    closed: false,
    ended: false,
    rateLimits: null,
  };
}

// Registers a new item after the last one: GPT-Live has no previous_item_id, the order in which
// turns open is the conversation's order.
export function addItem(state, id, fields, now) {
  const next = announce(state, id, state.lastItemId, fields, now);
  return { ...next, lastItemId: id };
}

const atSessionTime = (state, ms, now) => (state.startedAt == null ? now : state.startedAt + ms);

// Grouper updates -> items: a segment's first update opens its item, "closed" completes and posts it.
export function applySegments(state, updates, now, fx) {
  let next = state;
  for (const update of updates) {
    const segment = update.segment;
    if (!next.items[segment.id]) {
      const fields = { role: segment.speaker, kind: "audio", startedAt: atSessionTime(next, segment.startMs, now) };
      next = addItem(next, segment.id, fields, now);
    }
    if (update.type === "updated") {
      const status = segment.speaker === "user" ? "transcribing" : "streaming";
      next = put(next, segment.id, { text: segment.text, generated: segment.text, status });
    } else {
      const endedAt = atSessionTime(next, segment.endMs, now);
      next = put(next, segment.id, { text: segment.text, generated: segment.text, status: "completed", endedAt });
      next = post(next, fx, segment.id);
    }
  }
  return next;
}

// Runs one grouper operation on a copy, so the previous state stays untouched.
export function group(state, now, fx, operation) {
  const grouper = state.grouper.clone();
  const updates = operation(grouper);
  return applySegments({ ...state, grouper }, updates, now, fx);
}

// A tool call or a typed message is a turn of its own: whatever is being said is complete.
export function closeSegments(state, now, fx) {
  return group(state, now, fx, (grouper) => grouper.closeOpen(now));
}

// One word for the status pill.
export function selectActivity(state) {
  if (state.ended || state.closed) return "idle";
  const speaker = state.grouper.speaker;
  if (speaker === "user") return "hearing";
  if (speaker === "assistant") return "speaking";
  const working =
    Object.values(state.responses).some((response) => !response.done) ||
    Object.values(state.calls).some((call) => call.state === "running");
  return working ? "thinking" : "listening";
}

// When the page must dispatch {type: "local.tick"} next (ms), or null.
export function selectWakeAt(state, now) {
  return state.closed || state.ended ? null : state.grouper.wakeAt(now);
}

export const selectExpiresAt = (state) => state.expiresAt;
export const selectClosing = (state) => state.closing;
