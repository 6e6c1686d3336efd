// The WebRTC pieces both upstreams share: a peer connection with the microphone, the
// "oai-events" data channel, and the watch on the connection once the call is up.
import { CONNECT_TIMEOUT, CONNECTION_FAILED } from "./messages.js";

// "disconnected" often heals by itself (Wi-Fi hiccup); give it a moment before giving up.
const DISCONNECTED_GRACE_MS = 5_000;

export class ConnectionError extends Error {
  constructor(message, { status = 0 } = {}) {
    super(message);
    this.name = "ConnectionError";
    this.status = status;
  }
}

export const cancelled = () => new DOMException("cancelled", "AbortError");

export function withTimeout(promise, ms, message, onTimeout = () => {}) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new ConnectionError(message));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A peer connection sending `microphone` with the "oai-events" channel (created before the
 * offer, as both APIs require). onEvent(event) gets each server event, onAudio(stream) the
 * model's audio. Until arm() a failure rejects `setup(...)`; after it, onLost(cause) is
 * called once with "ice_failed" | "ice_disconnected" | "channel_closed".
 */
export function createPeer({ microphone, onEvent, onAudio, onLost }) {
  const pc = new RTCPeerConnection();
  const channel = pc.createDataChannel("oai-events");
  let closed = false;
  let armed = false;
  let graceTimer = null;
  let failSetup;
  const failed = new Promise((resolve, reject) => (failSetup = reject));
  failed.catch(() => {}); // observed through setup(); a late failure must not be unhandled
  const opened = new Promise((resolve) => (channel.onopen = resolve));

  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(graceTimer);
    failSetup(cancelled());
    channel.close();
    pc.close();
  };
  const lose = (cause) => {
    if (closed) return;
    failSetup(new ConnectionError(CONNECTION_FAILED));
    close();
    if (armed) onLost(cause);
  };

  pc.ontrack = (event) => onAudio(event.streams[0] || new MediaStream([event.track]));
  for (const track of microphone.getAudioTracks()) pc.addTrack(track, microphone);
  channel.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // not ours to crash on; every event is one JSON object
    }
    onEvent(event);
  };
  channel.onclose = () => lose("channel_closed");
  pc.onconnectionstatechange = () => {
    const state = pc.connectionState;
    if (state === "failed") lose("ice_failed");
    else if (state === "disconnected") graceTimer = setTimeout(() => lose("ice_disconnected"), DISCONNECTED_GRACE_MS);
    else if (state === "connected") clearTimeout(graceTimer);
  };
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === "failed") lose("ice_failed");
  };

  return {
    pc,
    opened,
    close,
    // Waits for `promise` unless the connection fails (or is closed) first.
    setup: (promise) => Promise.race([promise, failed]),
    arm() {
      armed = true;
    },
    // Returns false when the channel is gone (the caller is already tearing down).
    send(event) {
      if (closed || channel.readyState !== "open") return false;
      channel.send(JSON.stringify(event));
      return true;
    },
  };
}

/**
 * The offer/answer exchange both upstreams share. exchange(offer) resolves with the answer SDP
 * (each upstream has its own way to get it there); then the call waits at most `readyMs` for
 * `ready` (a promise: the data channel open, and whatever else the upstream needs). A failure,
 * or `signal` aborting (onAbort runs first), closes the peer. Resolves with {send, close} and
 * from then on reports a lost call through the peer's onLost.
 */
export async function negotiate(peer, { exchange, ready, readyMs, signal, onAbort = () => {} }) {
  const abort = () => {
    onAbort();
    peer.close();
  };
  signal?.addEventListener("abort", abort);
  try {
    const offer = await peer.pc.createOffer();
    await peer.pc.setLocalDescription(offer);
    const answer = await exchange(offer);
    if (signal?.aborted) throw cancelled();
    await peer.pc.setRemoteDescription({ type: "answer", sdp: answer });
    await withTimeout(peer.setup(ready), readyMs, CONNECT_TIMEOUT);
  } catch (error) {
    peer.close();
    throw error;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
  peer.arm();
  return { send: peer.send, close: peer.close };
}
