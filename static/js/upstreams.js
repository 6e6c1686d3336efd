// The two voice upstreams behind one contract; the talk page picks one from its config and
// knows nothing else about it. Each pair provides:
//   open({api, conversation, microphone, onSession, onEvent, onAudio, onLost, signal}) -> {send, close}
//   initialState({session, sessionId}), reduce(state, event, now) -> {state, effects},
//   selectTranscript, selectActivity, selectWakeAt(state, now), selectExpiresAt, selectClosing.
import * as live from "./live.js";
import * as liveReducer from "./live-reducer.js";
import * as realtime from "./realtime.js";
import * as realtimeReducer from "./realtime-reducer.js";

const UPSTREAMS = {
  realtime: { ...realtime, ...realtimeReducer },
  live: { ...live, ...liveReducer },
};

export function pickUpstream(name) {
  return UPSTREAMS[name] || UPSTREAMS.realtime;
}
