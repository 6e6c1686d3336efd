// When and how the talk page replaces a voice session that ended without the user asking:
// the backoff schedule, which endings reconnect, which start failures are worth another try,
// and the session-cap warning. Pure: node --test imports this file.

export const RECONNECT_DELAYS_MS = [1_000, 3_000, 10_000];
export const CAP_WARNING_SECONDS = 5 * 60;
// Roll over a little before the cap, so the new session is up before the upstream ends the old.
export const CAP_MARGIN_SECONDS = 10;

// The wait before reconnect attempt `attempt` (0-based), or null: give up.
export function reconnectDelay(attempt) {
  return attempt >= 0 && attempt < RECONNECT_DELAYS_MS.length ? RECONNECT_DELAYS_MS[attempt] : null;
}

// Endings a fresh session would only repeat: a broken server key or account, a safety stop.
const FINAL_ERRORS = new Set(["invalid_api_key", "insufficient_quota"]);
const FINAL_CLOSE_REASONS = new Set(["close_requested", "content"]);

/**
 * How a session ended, as the page saw it:
 *   {kind: "lost"}            ICE failed / disconnected past its grace, the data channel closed
 *   {kind: "cap"}             the page's own session cap
 *   {kind: "error", code}     a fatal upstream error event (Realtime: session_expired, …)
 *   {kind: "closed", reason}  GPT-Live session.closed that the page did not ask for
 */
export function shouldReconnect(end) {
  switch (end?.kind) {
    case "lost":
    case "cap":
      return true;
    case "error":
      return !FINAL_ERRORS.has(end.code);
    case "closed":
      return !FINAL_CLOSE_REASONS.has(end.reason);
    default:
      return false;
  }
}

// The session reached its maximum length upstream: continue as at the cap, not as a failure.
export function isExpiry(end) {
  return end?.kind === "cap" || (end?.kind === "error" && end.code === "session_expired") || (end?.kind === "closed" && end.reason === "expired");
}

// Whether starting the replacement session may be tried again after `error` (an ApiError from
// our server, a ConnectionError from WebRTC, or anything else). A quota refusal (429) is said,
// not retried; nor are a lost login, a deleted conversation or a server without a key (503).
export function canRetryStart(error) {
  if (error?.name === "AbortError" || error?.name === "MicrophoneError") return false;
  const status = error?.status ?? 0;
  if (status === 0 || status === 408 || status === 504) return true;
  return status >= 500 && status !== 503;
}

// "warn" once the session is within five minutes of its cap, "rollover" just before it.
export function capStage(elapsedSeconds, limitSeconds) {
  if (!limitSeconds) return "none";
  if (elapsedSeconds >= limitSeconds - Math.min(CAP_MARGIN_SECONDS, limitSeconds / 10)) return "rollover";
  if (limitSeconds > CAP_WARNING_SECONDS && limitSeconds - elapsedSeconds <= CAP_WARNING_SECONDS) return "warn";
  return "none";
}
