// Entry module of the talk page: wires the microphone, the voice session (Realtime or GPT-Live,
// picked from the page config), its reducer, tools, the post queue and the UI together. A call
// is one or more sessions of one conversation: a session that drops or reaches its cap is
// replaced by a fresh one for the same conversation (reconnect.js decides when).
import { ApiError, createApi, createTurnQueue } from "./api.js";
import {
  MicrophoneError,
  attachRemoteAudio,
  detachRemoteAudio,
  openMicrophone,
  setMuted,
  startLevelMeter,
  stopStream,
} from "./audio.js";
import {
  CONNECTION_DROPPED,
  RECONNECTED,
  RECONNECTING,
  RECONNECT_FAILED,
  SESSION_CONTINUED,
  SESSION_ENDING_SOON,
  SESSION_ROLLOVER,
} from "./messages.js";
import { canRetryStart, capStage, isExpiry, reconnectDelay, shouldReconnect } from "./reconnect.js";
import { createTools, describeCall, runToolCalls } from "./tools.js";
import { createUi } from "./ui.js";
import { pickUpstream } from "./upstreams.js";
import { ConnectionError } from "./webrtc.js";

const FLUSH_TIMEOUT_MS = 5_000;
const CLOSE_TIMEOUT_MS = 5_000; // how long Stop waits for the upstream's goodbye (final usage)
const NOTICE_MS = 6_000;

const config = JSON.parse(document.getElementById("talk-config").textContent);
const upstream = pickUpstream(config.upstream);
const ui = createUi(document);
const api = createApi(config);
const turns = createTurnQueue(api, {
  onGiveUp: (error) => ui.showError(`Part of the conversation could not be saved: ${error.message}`),
});
const tools = createTools({ getWeather: (location) => api.getWeather(location) });

let conversation = config.conversation || null;
let call = null; // the call being set up or running; null when idle

function describeError(error) {
  if (error instanceof ApiError || error instanceof MicrophoneError || error instanceof ConnectionError) {
    return error.message;
  }
  return "Something went wrong while starting the call. Reload the page and try again.";
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

async function waitUntil(condition, ms) {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

function showNoticeFor(message, ms = NOTICE_MS) {
  ui.showNotice(message);
  setTimeout(() => ui.clearNotice(message), ms);
}

// --- one session ----------------------------------------------------------------------------

function render(session) {
  const { state } = session;
  if (session.renderedItems !== state.items) {
    session.renderedItems = state.items;
    ui.renderTranscript(upstream.selectTranscript(state), describeCall);
  }
  // A session being closed no longer says what the call is doing; whoever closes it does
  // ("Reconnecting…", "Saving…"): its last events would otherwise show "Listening" meanwhile.
  if (session.stopping) return;
  const activity = upstream.selectActivity(state);
  ui.setStatus(session.call.muted && activity === "listening" ? "muted" : activity);
  ui.setRateLimits(state.rateLimits);
}

function runEffect(session, effect) {
  switch (effect.type) {
    case "send":
      session.connection?.send(effect.event);
      break;
    case "postTurn":
      turns.post(session.conversation, effect.turn);
      break;
    case "postUsage":
      turns.postUsage(session.conversation, effect.usage);
      break;
    case "runTools":
      runToolCalls(tools, effect.calls).then((results) => dispatch(session, { type: "local.tool_results", results }));
      break;
    case "notice":
      ui.showNotice(effect.message);
      break;
    case "error":
      if (effect.fatal) queueMicrotask(() => sessionEnded(session, { kind: "error", code: effect.code, message: effect.message }));
      else ui.showError(effect.message);
      break;
    case "ended":
      queueMicrotask(() => sessionEnded(session, { kind: "closed", reason: effect.reason, message: effect.message }));
      break;
  }
}

function dispatch(session, event) {
  if (session.closed || !session.state) return;
  const { state, effects } = upstream.reduce(session.state, event, Date.now());
  session.state = state;
  for (const effect of effects) runEffect(session, effect);
  render(session);
  scheduleWake(session);
}

// Transcript grouping (GPT-Live) needs a tick when a pause has lasted long enough.
function scheduleWake(session) {
  const at = upstream.selectWakeAt(session.state, Date.now());
  if (at === session.wakeAt) return;
  clearTimeout(session.wakeTimer);
  session.wakeAt = at;
  if (at == null) return;
  session.wakeTimer = setTimeout(() => {
    session.wakeAt = null;
    dispatch(session, { type: "local.tick" });
  }, Math.max(0, at - Date.now()));
}

function sessionLimit(session) {
  const expiresAt = session.state && upstream.selectExpiresAt(session.state);
  if (expiresAt && session.startedAt) return Math.max(0, Math.round((expiresAt - session.startedAt) / 1000));
  return config.sessionLimitSeconds || 0;
}

// Reload continues this conversation; the history page lists it either way.
function rememberConversation(id) {
  const url = new URL(window.location.href);
  url.searchParams.set("conversation", id);
  window.history.replaceState(null, "", url);
}

// Starts a session of the current conversation (a new one when there is none yet).
async function openSession(current) {
  const session = { call: current, state: null, connection: null, closed: false, conversation };
  current.session = session;
  const connection = await upstream.open({
    api,
    conversation,
    microphone: current.microphone,
    signal: current.abort.signal,
    onSession(grant) {
      conversation = session.conversation = current.conversation = grant.conversation;
      rememberConversation(conversation);
      session.state = upstream.initialState({ session: grant.session, sessionId: grant.session_id });
      ui.settleTranscript();
    },
    onEvent: (event) => dispatch(session, event),
    onAudio: (stream) => attachRemoteAudio(ui.remoteAudio, stream),
    onLost: (cause) => sessionEnded(session, { kind: "lost", cause }),
  });
  if (current.closed || session.closed) {
    connection.close();
    return;
  }
  session.connection = connection;
  session.startedAt = Date.now();
  if (current.muted) dispatch(session, { type: "local.mute", muted: true });
}

// Ends one session: asks the upstream to close (GPT-Live: session.close, which also stops its
// billing) and, with `graceful`, waits (bounded) for its final word (usage); then posts whatever
// is left and closes the connection.
async function closeSession(session, { graceful = false } = {}) {
  if (session.closed || session.stopping) return;
  session.stopping = true;
  if (session.state && session.connection) {
    dispatch(session, { type: "local.stop" });
    if (graceful) await waitUntil(() => session.closed || !upstream.selectClosing(session.state), CLOSE_TIMEOUT_MS);
  }
  if (session.closed) return;
  if (session.state) {
    const { state, effects } = upstream.reduce(session.state, { type: "local.flush" }, Date.now());
    session.state = state;
    for (const effect of effects) if (effect.type === "postTurn" || effect.type === "postUsage") runEffect(session, effect);
    ui.renderTranscript(upstream.selectTranscript(state), describeCall);
  }
  session.closed = true;
  clearTimeout(session.wakeTimer);
  session.connection?.close();
}

// --- the call: sessions, reconnects, the cap ------------------------------------------------

function connected(current) {
  current.ticker ??= setInterval(() => tick(current), 1000);
  current.stopMeter ??= startLevelMeter(current.microphone, (level) => ui.setLevel(current.muted ? 0 : level));
  ui.setConnection("connected");
  ui.setTimer(0, sessionLimit(current.session));
  render(current.session);
}

function tick(current) {
  const session = current.session;
  if (!session?.startedAt || session.closed || current.reconnecting) return;
  const elapsed = (Date.now() - session.startedAt) / 1000;
  const limit = sessionLimit(session);
  ui.setTimer(elapsed, limit);
  const stage = capStage(elapsed, limit);
  if (stage === "warn" && !session.warned) {
    session.warned = true;
    ui.showNotice(SESSION_ENDING_SOON);
  } else if (stage === "rollover") {
    sessionEnded(session, { kind: "cap" });
  }
}

// A session ended without the user asking (dropped, expired, closed upstream, fatal error).
function sessionEnded(session, end) {
  const current = session.call;
  if (session.closed || session.stopping || current.closed || current.session !== session) return;
  if (shouldReconnect(end)) {
    reconnect(current, end);
  } else {
    ui.showError(end.message);
    teardown(current, { status: "error" });
  }
}

// Replaces the session with a fresh one for the same conversation: what was said stays on screen
// and is posted; the server seeds the new session with the recent turns. Backoff, then give up.
async function reconnect(current, end) {
  if (current.reconnecting) return;
  current.reconnecting = true;
  const planned = isExpiry(end);
  ui.showNotice(planned ? SESSION_ROLLOVER : RECONNECTING);
  ui.setConnection("connecting");
  ui.setStatus("reconnecting");
  await closeSession(current.session, { graceful: end.kind === "cap" });
  detachRemoteAudio(ui.remoteAudio);
  turns.flush(); // what is still queued goes out now rather than after its backoff
  for (let attempt = 0; ; attempt += 1) {
    const delay = planned && attempt === 0 ? 0 : reconnectDelay(attempt);
    if (delay == null) return giveUp(current, RECONNECT_FAILED, { retry: true });
    await sleep(delay, current.abort.signal);
    if (current.closed) return;
    try {
      await openSession(current);
      break;
    } catch (error) {
      if (current.closed) return;
      if (!canRetryStart(error)) return giveUp(current, `${CONNECTION_DROPPED} ${describeError(error)}`, { retry: error.status !== 429 });
    }
  }
  if (current.closed) return;
  current.reconnecting = false;
  connected(current);
  showNoticeFor(planned ? SESSION_CONTINUED : RECONNECTED);
}

function giveUp(current, message, { retry }) {
  current.reconnecting = false;
  ui.showNotice("");
  ui.showError(message, { retry });
  teardown(current, { status: "error" });
}

async function start() {
  const current = { abort: new AbortController(), muted: false, closed: false, session: null, conversation };
  call = current;
  ui.clearError();
  ui.showNotice("");
  ui.setConnection("connecting");
  ui.setStatus("connecting");
  try {
    current.microphone = await openMicrophone();
    if (current.closed) return stopStream(current.microphone);
    await openSession(current);
    if (current.closed) return;
    connected(current);
  } catch (error) {
    if (current.closed) return; // cancelled by the user
    ui.showError(describeError(error));
    await teardown(current, { status: current.session?.startedAt ? "error" : "idle" });
  }
}

// Ends the call: says goodbye to the upstream, posts what is left, closes tracks and connection,
// and marks the conversation ended. With keepalive (pagehide) every request must outlive the page.
async function teardown(current, { status = "ended", keepalive = false } = {}) {
  if (current.closed) return;
  current.closed = true;
  if (call === current) call = null;
  current.abort.abort();
  clearInterval(current.ticker);
  current.stopMeter?.();
  const session = current.session;
  if (session) {
    const graceful = !keepalive && status === "ended";
    if (graceful && session.connection && !session.closed) {
      ui.setConnection("stopping");
      ui.setStatus("saving");
    }
    await closeSession(session, { graceful });
  }
  stopStream(current.microphone);
  detachRemoteAudio(ui.remoteAudio);
  ui.setLevel(0);
  if (current.conversation && keepalive) {
    turns.flushWithKeepalive();
    api.endConversation(current.conversation, { keepalive: true }).catch(() => {});
  } else if (current.conversation) {
    // Start comes back only once the last turns are saved and the conversation is closed.
    ui.setConnection("stopping");
    ui.setStatus("saving");
    await Promise.race([turns.flush(), new Promise((resolve) => setTimeout(resolve, FLUSH_TIMEOUT_MS))]);
    await api.endConversation(current.conversation).catch(() => {
      ui.showNotice("The call ended, but the server could not be told. It still appears in your history.");
    });
  }
  ui.setConnection("idle");
  ui.setStatus(status);
}

ui.renderHistory(config.turns || [], describeCall);
ui.setConnection("idle");
ui.setStatus("idle");
ui.setTimer(0, config.sessionLimitSeconds);

ui.onConnect(() => (call ? teardown(call) : start()));
ui.onRetry(() => call || start());
ui.onMute((muted) => {
  if (!call?.microphone) return;
  call.muted = muted;
  setMuted(call.microphone, muted);
  ui.setMuted(muted);
  const session = call.session;
  if (session?.connection && !session.closed) dispatch(session, { type: "local.mute", muted });
});
ui.onSend((text) => {
  const session = call?.session;
  if (session?.connection && !session.closed) dispatch(session, { type: "local.send_text", text });
});
window.addEventListener("pagehide", () => {
  if (call) teardown(call, { keepalive: true });
  else turns.flushWithKeepalive();
});
