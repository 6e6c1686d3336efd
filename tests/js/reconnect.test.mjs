import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError } from "../../static/js/api.js";
import { MicrophoneError } from "../../static/js/audio.js";
import { canRetryStart, capStage, isExpiry, reconnectDelay, shouldReconnect } from "../../static/js/reconnect.js";
import { ConnectionError } from "../../static/js/webrtc.js";

test("backoff: 1 s, 3 s, 10 s, then give up", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(reconnectDelay), [1_000, 3_000, 10_000, null, null]);
});

test("lost connections, the cap and upstream endings reconnect", () => {
  for (const end of [
    { kind: "lost" },
    { kind: "cap" },
    { kind: "error", code: "session_expired" },
    { kind: "closed", reason: "expired" },
    { kind: "closed", reason: "connection_lost" },
    { kind: "closed", reason: "remote_hangup" },
  ]) {
    assert.equal(shouldReconnect(end), true, JSON.stringify(end));
  }
});

test("endings a new session would repeat do not reconnect", () => {
  for (const end of [
    { kind: "error", code: "invalid_api_key" },
    { kind: "error", code: "insufficient_quota" },
    { kind: "closed", reason: "content" },
    { kind: "closed", reason: "close_requested" },
    undefined,
    { kind: "stop" },
  ]) {
    assert.equal(shouldReconnect(end), false, JSON.stringify(end));
  }
});

test("a failed restart is retried for network trouble and server errors, not for refusals", () => {
  const retried = [
    new ApiError("Could not reach the server.", { status: 0 }),
    new ApiError("The service did not answer in time.", { status: 504 }),
    new ApiError("The voice service had a problem.", { status: 502 }),
    new ConnectionError("Could not connect to the voice service."),
  ];
  for (const error of retried) assert.equal(canRetryStart(error), true, error.message);
  const refused = [
    new ApiError("You have used all 20 voice sessions for today.", { status: 429, retryAfter: 40_000 }),
    new ApiError("Your login has expired.", { status: 403 }),
    new ApiError("No such conversation.", { status: 404 }),
    new ApiError("The voice service is not configured on this server.", { status: 503 }),
    new MicrophoneError(new DOMException("denied", "NotAllowedError")),
    new DOMException("cancelled", "AbortError"),
  ];
  for (const error of refused) assert.equal(canRetryStart(error), false, error.message);
});

test("the cap warning comes five minutes before the cap, the rollover ten seconds before it", () => {
  assert.equal(capStage(0, 3600), "none");
  assert.equal(capStage(3299, 3600), "none");
  assert.equal(capStage(3300, 3600), "warn");
  assert.equal(capStage(3589, 3600), "warn");
  assert.equal(capStage(3590, 3600), "rollover");
  assert.equal(capStage(100, 0), "none"); // no cap known
  assert.equal(capStage(100, 240), "none"); // a cap shorter than the warning: no warning
  assert.equal(capStage(20, 30), "none");
  assert.equal(capStage(27, 30), "rollover"); // a short cap: a tenth of it as margin
});

test("an upstream expiry is the cap, not a failure", () => {
  assert.equal(isExpiry({ kind: "error", code: "session_expired" }), true);
  assert.equal(isExpiry({ kind: "closed", reason: "expired" }), true);
  assert.equal(isExpiry({ kind: "cap" }), true);
  assert.equal(isExpiry({ kind: "lost" }), false);
  assert.equal(isExpiry({ kind: "closed", reason: "connection_lost" }), false);
});
