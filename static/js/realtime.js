// The WebRTC side of the Realtime API: mint a key through our server, then the SDP exchange
// with calls_url (docs/realtime-api.md, "Calls"). The pure event reducer lives in realtime-reducer.js;
// between them they are the only modules that know Realtime event names.
import { CONNECT_TIMEOUT, CONNECTION_FAILED, callsMessage } from "./messages.js";
import { ConnectionError, createPeer, negotiate, withTimeout } from "./webrtc.js";

const SDP_TIMEOUT_MS = 15_000;
const OPEN_TIMEOUT_MS = 15_000;

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
 * Starts a session for `conversation` (null: a new one) and opens the call. onSession(grant)
 * gets the server's answer as soon as it is known ({conversation, session, …}). Resolves once
 * the data channel is open with {send, close}; onLost(cause) reports a call that dropped later.
 */
export async function open({ api, conversation, microphone, onSession, onEvent, onAudio, onLost, signal }) {
  const grant = await api.startSession(conversation, { signal });
  onSession(grant);
  const peer = createPeer({ microphone, onEvent, onAudio, onLost });
  const abort = new AbortController();
  const exchange = (offer) =>
    withTimeout(
      peer.setup(exchangeSdp({ callsUrl: grant.calls_url, clientSecret: grant.client_secret, offerSdp: offer.sdp, signal: abort.signal })),
      SDP_TIMEOUT_MS,
      CONNECT_TIMEOUT,
      () => abort.abort(),
    );
  return negotiate(peer, { exchange, ready: peer.opened, readyMs: OPEN_TIMEOUT_MS, signal, onAbort: () => abort.abort() });
}
