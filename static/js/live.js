// The WebRTC side of GPT-Live (docs/gpt-live.md): there are no ephemeral keys, so the offer,
// complete with its ICE candidates, goes to our server, which starts the session upstream and
// returns the answer. Nothing is sent before session.started. The pure event reducer lives in
// live-reducer.js; between them they are the only modules that know GPT-Live event names.
import { createPeer, negotiate } from "./webrtc.js";

const ICE_GATHERING_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 15_000;

// Resolves when ICE gathering is complete, or after `ms` with the candidates found so far.
export function iceGatheringComplete(pc, ms = ICE_GATHERING_TIMEOUT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/** The same contract as realtime.js open(). */
export async function open({ api, conversation, microphone, onSession, onEvent, onAudio, onLost, signal }) {
  let markStarted;
  const started = new Promise((resolve) => (markStarted = resolve));
  const peer = createPeer({
    microphone,
    onAudio,
    onLost,
    onEvent(event) {
      onEvent(event);
      if (event.type === "session.started") markStarted();
    },
  });
  const exchange = async () => {
    await peer.setup(iceGatheringComplete(peer.pc));
    const grant = await peer.setup(api.startLiveSession(conversation, peer.pc.localDescription.sdp, { signal }));
    onSession(grant);
    return grant.sdp;
  };
  return negotiate(peer, { exchange, ready: Promise.all([peer.opened, started]), readyMs: START_TIMEOUT_MS, signal });
}
