// The WebRTC side of the Realtime API: peer connection, the "oai-events" data channel and
// the SDP exchange with calls_url (docs/realtime-api.md, "Calls"). The pure event reducer lives in
// realtime-reducer.js; between them they are the only modules that know event names.
import { CONNECT_TIMEOUT, CONNECTION_FAILED, CONNECTION_LOST, callsMessage } from "./messages.js";

const SDP_TIMEOUT_MS = 15_000;
const OPEN_TIMEOUT_MS = 15_000;
// "disconnected" often heals by itself (Wi-Fi hiccup); give it a moment before giving up.
const DISCONNECTED_GRACE_MS = 5_000;

export class ConnectionError extends Error {
  constructor(message, { status = 0 } = {}) {
    super(message);
    this.name = "ConnectionError";
    this.status = status;
  }
}

function withTimeout(promise, ms, message, onTimeout = () => {}) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new ConnectionError(message));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// POST the offer to calls_url; the answer body is SDP, errors are a JSON envelope.
async function exchangeSdp({ callsUrl, clientSecret, offerSdp, signal }) {
  let response;
  try {
    response = await fetch(callsUrl, {
      method: "POST",
      body: offerSdp,
      headers: { Authorization: `Bearer ${clientSecret}`, "Content-Type": "application/sdp" },
      signal,
    });
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new ConnectionError(CONNECTION_FAILED);
  }
  const body = await response.text();
  if (!response.ok) throw new ConnectionError(callsMessage(response.status), { status: response.status });
  return body;
}

/**
 * Opens a call. Resolves once the data channel is open with {send, close}.
 * onEvent(event) gets each server event; onAudio(stream) the model's audio;
 * onLost(message) a connection that failed or dropped after it was up.
 */
export async function connect({ clientSecret, callsUrl, microphone, onEvent, onAudio, onLost, signal }) {
  const pc = new RTCPeerConnection();
  const channel = pc.createDataChannel("oai-events");
  let closed = false;
  let graceTimer = null;

  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(graceTimer);
    channel.close();
    pc.close();
  };
  const lose = (message) => {
    if (closed) return;
    close();
    onLost(message);
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
  pc.onconnectionstatechange = () => {
    const state = pc.connectionState;
    if (state === "failed") lose(CONNECTION_LOST);
    else if (state === "disconnected") graceTimer = setTimeout(() => lose(CONNECTION_LOST), DISCONNECTED_GRACE_MS);
    else if (state === "connected") clearTimeout(graceTimer);
  };
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === "failed") lose(CONNECTION_LOST);
  };

  const abort = new AbortController();
  const onAbort = () => abort.abort();
  signal?.addEventListener("abort", onAbort);
  try {
    const opened = new Promise((resolve, reject) => {
      channel.onopen = resolve;
      channel.onclose = () => (closed ? reject(new DOMException("closed", "AbortError")) : reject(new ConnectionError(CONNECTION_FAILED)));
    });
    opened.catch(() => {}); // observed below; avoid an unhandled rejection if the SDP step fails first
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const answer = await withTimeout(
      exchangeSdp({ callsUrl, clientSecret, offerSdp: offer.sdp, signal: abort.signal }),
      SDP_TIMEOUT_MS,
      CONNECT_TIMEOUT,
      () => abort.abort(),
    );
    if (signal?.aborted) throw new DOMException("cancelled", "AbortError");
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    const aborted = new Promise((resolve, reject) => {
      abort.signal.addEventListener("abort", () => reject(new DOMException("cancelled", "AbortError")));
    });
    await withTimeout(Promise.race([opened, aborted]), OPEN_TIMEOUT_MS, CONNECT_TIMEOUT);
  } catch (error) {
    close();
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }

  channel.onclose = () => lose(CONNECTION_LOST);
  return {
    // Returns false when the channel is gone (the caller is already tearing down).
    send(event) {
      if (closed || channel.readyState !== "open") return false;
      channel.send(JSON.stringify(event));
      return true;
    },
    close,
  };
}
