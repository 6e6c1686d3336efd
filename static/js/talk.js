// Entry module of the talk page: wires the microphone, the Realtime call, the reducer,
// tools, the turn-post queue and the UI together. Configuration comes from json_script.
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
import { SESSION_LIMIT } from "./messages.js";
import { ConnectionError, connect } from "./realtime.js";
import { initialState, reduce, selectActivity, selectTranscript } from "./realtime-reducer.js";
import { createTools, describeCall, runToolCalls } from "./tools.js";
import { createUi } from "./ui.js";

const FLUSH_TIMEOUT_MS = 5_000;

const config = JSON.parse(document.getElementById("talk-config").textContent);
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

function render(current) {
  const { state } = current;
  if (current.renderedItems !== state.items) {
    current.renderedItems = state.items;
    ui.renderTranscript(selectTranscript(state), describeCall);
  }
  const activity = selectActivity(state);
  ui.setStatus(current.muted && activity === "listening" ? "muted" : activity);
  ui.setRateLimits(state.rateLimits);
}

function runEffect(current, effect) {
  switch (effect.type) {
    case "send":
      current.connection?.send(effect.event);
      break;
    case "postTurn":
      turns.post(current.conversation, effect.turn);
      break;
    case "runTools":
      runToolCalls(tools, effect.calls).then((results) => dispatch(current, { type: "local.tool_results", results }));
      break;
    case "notice":
      ui.showNotice(effect.message);
      break;
    case "error":
      ui.showError(effect.message);
      if (effect.fatal) queueMicrotask(() => teardown(current, { status: "error" }));
      break;
  }
}

function dispatch(current, event) {
  if (current.closed || !current.state) return;
  const { state, effects } = reduce(current.state, event, Date.now());
  current.state = state;
  for (const effect of effects) runEffect(current, effect);
  render(current);
}

function tick(current) {
  const elapsed = (Date.now() - current.startedAt) / 1000;
  ui.setTimer(elapsed, config.sessionLimitSeconds);
  if (config.sessionLimitSeconds && elapsed >= config.sessionLimitSeconds) fail(current, SESSION_LIMIT);
}

function fail(current, message) {
  ui.showError(message);
  teardown(current, { status: "error" });
}

// Reload continues this conversation; the history page lists it either way.
function rememberConversation(id) {
  const url = new URL(window.location.href);
  url.searchParams.set("conversation", id);
  window.history.replaceState(null, "", url);
}

async function start() {
  const current = { abort: new AbortController(), muted: false, closed: false, state: null };
  call = current;
  ui.clearError();
  ui.showNotice("");
  ui.setConnection("connecting");
  ui.setStatus("connecting");
  try {
    current.microphone = await openMicrophone();
    if (current.closed) return stopStream(current.microphone);
    const session = await api.startSession(conversation, { signal: current.abort.signal });
    conversation = current.conversation = session.conversation;
    rememberConversation(conversation);
    current.state = initialState({ session: session.session });
    ui.settleTranscript();
    current.connection = await connect({
      clientSecret: session.client_secret,
      callsUrl: session.calls_url,
      microphone: current.microphone,
      signal: current.abort.signal,
      onEvent: (event) => dispatch(current, event),
      onAudio: (stream) => attachRemoteAudio(ui.remoteAudio, stream),
      onLost: (message) => fail(current, message),
    });
    if (current.closed) return current.connection.close();
    current.startedAt = Date.now();
    current.ticker = setInterval(() => tick(current), 1000);
    current.stopMeter = startLevelMeter(current.microphone, (level) => ui.setLevel(current.muted ? 0 : level));
    ui.setConnection("connected");
    ui.setTimer(0, config.sessionLimitSeconds);
    render(current);
  } catch (error) {
    if (current.closed) return; // cancelled by the user
    ui.showError(describeError(error));
    await teardown(current, { status: current.startedAt ? "error" : "idle" });
  }
}

// Ends the call: posts what is left, closes tracks, channel and connection, and marks the
// conversation ended. With keepalive (pagehide) every request must outlive the page.
async function teardown(current, { status = "ended", keepalive = false } = {}) {
  if (current.closed) return;
  current.closed = true;
  if (call === current) call = null;
  current.abort.abort();
  if (current.state) {
    const { state, effects } = reduce(current.state, { type: "local.flush" }, Date.now());
    current.state = state;
    effects.filter((effect) => effect.type === "postTurn").forEach((effect) => runEffect(current, effect));
    ui.renderTranscript(selectTranscript(state), describeCall);
  }
  clearInterval(current.ticker);
  current.stopMeter?.();
  current.connection?.close();
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
ui.onMute((muted) => {
  if (!call?.microphone) return;
  call.muted = muted;
  setMuted(call.microphone, muted);
  ui.setMuted(muted);
  if (call.state) render(call);
});
ui.onSend((text) => {
  if (call?.connection) dispatch(call, { type: "local.send_text", text });
});
window.addEventListener("pagehide", () => {
  if (call) teardown(call, { keepalive: true });
  else turns.flushWithKeepalive();
});
