// reduce(state, event, now) -> {state, effects} for GPT-Live data-channel events and the page's
// local events ("local.*"); the same contract and effect vocabulary as realtime-reducer.js:
//   {type: "send", event} | {type: "postTurn", turn} | {type: "postUsage", usage}
// | {type: "runTools", calls} | {type: "error", message, fatal} | {type: "notice", message}
// | {type: "ended", reason, message}  (the upstream closed the session; the page may reconnect)
// Pure: no DOM, no I/O, no clock but `now`.
import { failRunningCalls, delegationCreated, responseEvent, toolResults } from "./live-delegation.js";
import { addItem, closeSegments, group } from "./live-state.js";
import { TranscriptGrouper } from "./live-transcript.js";
import { liveCloseMessage, liveErrorMessage } from "./messages.js";
import { post, reducerFor, send } from "./turn-state.js";

export {
  initialState,
  selectActivity,
  selectClosing,
  selectExpiresAt,
  selectTranscript,
  selectWakeAt,
} from "./live-state.js";

function sessionStarted(state, event, now) {
  const session = event.session || {};
  const sessionId = state.sessionId || session.id || "";
  const grouper = state.sessionId ? state.grouper : new TranscriptGrouper(sessionId);
  const expiresAt = typeof session.expires_at === "number" ? session.expires_at * 1000 : null;
  return { ...state, sessionId, grouper, started: true, startedAt: now, expiresAt };
}

// SessionUsage: cumulative seconds, a snapshot to replace the previous one, never to add up.
function usagePayload(session, usage) {
  const payload = { session, seconds: usage.seconds };
  for (const key of ["active_seconds", "paused_seconds"]) if (typeof usage[key] === "number") payload[key] = usage[key];
  return payload;
}

function noteUsage(state, usage, fx) {
  if (typeof usage?.seconds !== "number") return state;
  fx.push({ type: "postUsage", usage: usagePayload(state.session, usage) });
  return { ...state, usage };
}

function sessionClosed(state, event, now, fx) {
  if (state.closed) return state;
  let next = group(state, now, fx, (grouper) => grouper.finish(now, "session_closed"));
  next = noteUsage(next, event.usage, fx);
  next = { ...next, closed: true, closing: false };
  if (!state.closeRequested) fx.push({ type: "ended", reason: event.reason || "", message: liveCloseMessage(event.reason) });
  return next;
}

// A command error does not end the session: session.closed (or a lost channel) says that.
function errorEvent(state, event, now, fx) {
  fx.push({ type: "error", fatal: false, message: liveErrorMessage(event.error || {}) });
  return state;
}

// Typed text has no place in the voice timeline: it goes to the Responses backend as a user
// message, and response.create has GPT-Live answer it.
function sendText(state, event, now, fx) {
  const text = (event.text || "").trim();
  if (!text || !state.started || state.closing || state.closed || state.ended) return state;
  let next = closeSegments(state, now, fx);
  const item = { type: "message", role: "user", content: [{ type: "input_text", text }] };
  next = send(next, fx, { type: "response.item.create", item }, "text");
  const id = `${next.sessionId}:voiceapp_text_${next.eventSeq}`;
  next = addItem(next, id, { role: "user", kind: "text", text, generated: text, status: "completed", endedAt: now }, now);
  next = post(next, fx, id);
  return send(next, fx, { type: "response.create" }, "response");
}

function mute(state, event, now, fx) {
  if (!state.started || state.closing || state.closed) return state;
  return send(state, fx, { type: event.muted ? "session.input_audio.mute" : "session.input_audio.unmute" }, "mute");
}

// Stop: ask for session.closed (final usage); the page waits for it a bounded time.
function stop(state, event, now, fx) {
  if (!state.started || state.closing || state.closed) return state;
  return { ...send(state, fx, { type: "session.close" }, "close"), closing: true, closeRequested: true };
}

// The page is done with this session (stop, reconnect, page hide): settle and post what is left.
function flush(state, now, fx) {
  let next = group(state, now, fx, (grouper) => grouper.finish(now, "manual"));
  next = failRunningCalls(next, now, fx);
  return { ...next, ended: true, closing: false };
}

const transcript = (state, event, now, fx) => group(state, now, fx, (grouper) => grouper.push(event, now));

const HANDLERS = {
  "session.started": sessionStarted,
  "session.input_transcript.delta": transcript,
  "session.output_transcript.delta": transcript,
  "session.delegation.created": delegationCreated,
  "response.event": responseEvent,
  "session.usage.updated": (state, event, now, fx) => noteUsage(state, event.usage, fx),
  "session.closed": sessionClosed,
  error: errorEvent,
  "local.tick": (state, event, now, fx) => group(state, now, fx, (grouper) => grouper.tick(now)),
  "local.send_text": sendText,
  "local.tool_results": toolResults,
  "local.mute": mute,
  "local.stop": stop,
  "local.flush": (state, event, now, fx) => flush(state, now, fx),
};

export const reduce = reducerFor(HANDLERS);
