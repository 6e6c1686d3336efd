// Human sentences for everything that can go wrong on the talk page. Pure: tested by node.

export const CONNECTION_FAILED =
  "Could not connect to the voice service. Check your network (a firewall may block WebRTC) and press Start to try again.";
export const CONNECT_TIMEOUT =
  "The voice service did not answer in time. Press Start to try again.";
export const RECONNECTING = "Connection lost — reconnecting…";
export const CONNECTION_DROPPED = "The connection was lost.";
export const RECONNECTED = "Reconnected. The conversation continues.";
export const RECONNECT_FAILED =
  "The connection could not be restored. Your conversation is saved; press Retry to continue it.";
export const SESSION_ENDING_SOON =
  "This voice session ends in 5 minutes. The conversation will continue in a new session by itself.";
export const SESSION_ROLLOVER = "Continuing the conversation in a new session…";
export const SESSION_CONTINUED = "The session reached its time limit; the conversation continues in a new one.";
export const SERVER_UNREACHABLE =
  "Could not reach the server. Check your connection and try again.";

export function microphoneMessage(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return "Microphone access is blocked. Allow the microphone for this site in your browser settings, then press Start again.";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, then press Start again.";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "The microphone could not be started; another application may be using it. Close it, then press Start again.";
    case "TypeError":
      return "This browser cannot use the microphone on this page. Open the app over HTTPS (or on localhost) in a current browser.";
    default:
      return "The microphone could not be started. Check your browser's microphone settings and try again.";
  }
}

// Fallbacks for responses from our own server that carry no {"detail"} sentence.
export function httpMessage(status) {
  if (status === 401 || status === 403) return "Your login has expired. Reload the page and sign in again.";
  if (status === 404) return "This conversation no longer exists. Start a new one.";
  if (status === 413) return "That was too long to save.";
  if (status === 429) return "You have reached your usage limit for now. Try again later.";
  if (status === 503) return "The voice service is not configured on this server. Ask the administrator to set it up.";
  if (status === 504) return "The service did not answer in time. Try again in a moment.";
  if (status >= 500) return "The server had a problem. Try again in a moment.";
  return "The request was not accepted. Reload the page and try again.";
}

// POST calls_url failed (SDP exchange with the Realtime endpoint).
export function callsMessage(status) {
  if (status === 401 || status === 403) return "The voice session key was rejected or has expired. Press Start to try again.";
  if (status === 429) return "The voice service is busy or out of quota right now. Try again in a minute.";
  if (status >= 500) return "The voice service is having problems right now. Try again in a minute.";
  return "The voice service refused the connection. Press Start to try again.";
}

// The codes both upstreams' `error` events share, and the sentence for any other.
function serviceErrorMessage(error) {
  switch (error.code) {
    case "rate_limit_exceeded":
      return "The voice service is rate-limiting this app. Wait a moment, then try again.";
    case "insufficient_quota":
      return "The voice service account is out of credit. Ask the administrator to top it up.";
    case "server_error":
      return "The voice service had a problem. Try again, or press Stop and Start.";
    default:
      return error.message
        ? `The voice service reported a problem: ${error.message}`
        : "The voice service reported a problem. Try again, or press Stop and Start.";
  }
}

// An `error` event from the Realtime API. Returns null for errors the user need not see.
export function realtimeErrorMessage(error = {}) {
  switch (error.code) {
    case "conversation_already_has_active_response":
    case "response_cancel_not_active":
      return null;
    case "session_expired":
      return "The voice session reached its maximum length. Press Start to continue in a new session.";
    case "invalid_api_key":
      return "The voice service rejected this app's key. Ask the administrator to check the configuration.";
    default:
      return serviceErrorMessage(error);
  }
}

export function isFatalRealtimeError(error = {}) {
  return error.code === "session_expired" || error.code === "invalid_api_key" || error.code === "insufficient_quota";
}

// session.closed.reason of GPT-Live, for every reason the user did not choose.
export function liveCloseMessage(reason) {
  switch (reason) {
    case "expired":
      return "The voice session reached its maximum length.";
    case "content":
      return "The voice service ended the session because of its content policy. Press Start to begin again.";
    case "remote_hangup":
      return "The voice service ended the session.";
    case "connection_lost":
      return "The voice service lost the connection.";
    case "close_requested":
      return "The voice session was closed.";
    default:
      return "The voice session ended unexpectedly.";
  }
}

// An `error` event from GPT-Live ({type, code, message, param, client_event_id}).
export function liveErrorMessage(error = {}) {
  switch (error.code) {
    case "invalid_audio":
      return "The voice service could not use the microphone audio. Check your microphone.";
    case "session_storage_failed":
      return "The voice service could not store its recording of this session; your transcript is saved here.";
    default:
      return serviceErrorMessage(error);
  }
}
