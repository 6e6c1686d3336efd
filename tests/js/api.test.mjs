import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, chunkBySize, createApi, createTurnQueue, errorSentence, parseRetryAfter } from "../../static/js/api.js";

const CONFIG = {
  sessionUrl: "/realtime/session/",
  weatherUrl: "/api/weather/",
  conversationsUrl: "/api/conversations/",
  csrfToken: "csrf123",
};

function fakeFetch(responses) {
  const requests = [];
  const fetchImpl = async (url, init) => {
    requests.push({ url, ...init, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const next = responses.shift();
    if (next instanceof Error) throw next;
    const { status = 200, body = {}, headers = {} } = next;
    return {
      ok: status >= 200 && status < 300,
      status,
      headers: { get: (name) => headers[name] ?? null },
      json: async () => (body === null ? Promise.reject(new SyntaxError("no json")) : body),
    };
  };
  return { fetchImpl, requests };
}

const MINTED = { client_secret: "ek_1", expires_at: 1, conversation: "c0ffee00-0000-4000-8000-000000000000", model: "gpt-realtime", calls_url: "http://127.0.0.1:8100/v1/realtime/calls", session: 2 };

test("starting a session posts JSON with the CSRF header and same-origin credentials", async () => {
  const { fetchImpl, requests } = fakeFetch([{ status: 201, body: MINTED }]);
  const api = createApi(CONFIG, { fetchImpl });
  assert.deepEqual(await api.startSession("c0ffee00-0000-4000-8000-000000000000"), MINTED);
  const [request] = requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, "/realtime/session/");
  assert.equal(request.headers["X-CSRFToken"], "csrf123");
  assert.equal(request.headers["Content-Type"], "application/json");
  assert.equal(request.credentials, "same-origin");
  assert.deepEqual(request.body, { conversation: "c0ffee00-0000-4000-8000-000000000000" });
});

test("a new conversation posts an empty object", async () => {
  const { fetchImpl, requests } = fakeFetch([{ status: 201, body: MINTED }]);
  await createApi(CONFIG, { fetchImpl }).startSession(null);
  assert.deepEqual(requests[0].body, {});
});

test("server errors become ApiErrors with the server's sentence and status", async () => {
  const { fetchImpl } = fakeFetch([
    { status: 429, body: { detail: "You have used today's 20 voice sessions." }, headers: { "Retry-After": "3600" } },
    { status: 503, body: { detail: "The voice service is not configured." } },
    { status: 502, body: null },
  ]);
  const api = createApi(CONFIG, { fetchImpl });
  await assert.rejects(api.startSession(null), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 429);
    assert.equal(error.retryAfter, 3600);
    assert.equal(error.message, "You have used today's 20 voice sessions.");
    return true;
  });
  await assert.rejects(api.startSession(null), { status: 503, message: "The voice service is not configured." });
  await assert.rejects(api.startSession(null), { status: 502, message: /server had a problem/ });
});

test("a network failure is status 0 with a human sentence", async () => {
  const { fetchImpl } = fakeFetch([new TypeError("Failed to fetch")]);
  await assert.rejects(createApi(CONFIG, { fetchImpl }).getWeather("Oslo"), { status: 0, message: /Could not reach the server/ });
});

test("weather is a GET without CSRF; ending is a PATCH", async () => {
  const { fetchImpl, requests } = fakeFetch([{ body: { location: "Oslo" } }, { body: { status: "ended" } }]);
  const api = createApi(CONFIG, { fetchImpl });
  await api.getWeather("São Paulo, BR");
  await api.endConversation("abc", { keepalive: true });
  assert.equal(requests[0].url, "/api/weather/?location=S%C3%A3o+Paulo%2C+BR");
  assert.equal(requests[0].method, "GET");
  assert.equal(requests[0].headers["X-CSRFToken"], undefined);
  assert.deepEqual([requests[1].method, requests[1].url, requests[1].body, requests[1].keepalive], ["PATCH", "/api/conversations/abc/", { status: "ended" }, true]);
});

test("field errors and Retry-After dates are understood", () => {
  assert.equal(errorSentence({ text: ["Ensure this field has no more than 20000 characters."] }), "Ensure this field has no more than 20000 characters.");
  assert.equal(errorSentence([{}, { role: ["\"robot\" is not a valid choice."] }]), "\"robot\" is not a valid choice.");
  assert.equal(errorSentence(null), null);
  assert.equal(parseRetryAfter("120"), 120);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT")), 30);
  assert.equal(parseRetryAfter(null), null);
});

test("turns are posted to the conversation's turns URL; pagehide hands them to keepalive batches", async () => {
  const { fetchImpl, requests } = fakeFetch([new TypeError("offline"), { status: 201 }]);
  const api = createApi(CONFIG, { fetchImpl });
  const listeners = {};
  const target = { navigator: { onLine: true }, addEventListener: (name, fn) => (listeners[name] = fn) };
  const turns = createTurnQueue(api, { onGiveUp: () => {}, target });
  turns.post("abc", { item_id: "item_1", text: "hi" });
  await new Promise((resolve) => setImmediate(resolve));
  listeners.offline();
  turns.post("abc", { item_id: "item_2", text: "there" });
  turns.flushWithKeepalive();
  assert.deepEqual(
    requests.map((request) => [request.url, request.keepalive, request.body]),
    [
      ["/api/conversations/abc/turns/", false, { item_id: "item_1", text: "hi" }],
      ["/api/conversations/abc/turns/", true, [{ item_id: "item_1", text: "hi" }, { item_id: "item_2", text: "there" }]],
    ],
  );
});

test("keepalive chunks stay under the byte limit", () => {
  const payloads = Array.from({ length: 5 }, (_, i) => ({ item_id: `item_${i}`, text: "é".repeat(40) }));
  const chunks = chunkBySize(payloads, 250);
  assert.deepEqual(chunks.flat(), payloads);
  for (const chunk of chunks) assert.ok(new TextEncoder().encode(JSON.stringify(chunk)).length <= 250);
});

const LIVE = { sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", session_id: "live_1", conversation: "c0ffee00-0000-4000-8000-000000000000", session: 3, model: "gpt-live-1" };

test("a GPT-Live start posts exactly the offer and the conversation, and returns the answer", async () => {
  const { fetchImpl, requests } = fakeFetch([{ status: 201, body: LIVE }, { status: 201, body: LIVE }]);
  const api = createApi({ ...CONFIG, sessionUrl: "/live/session/" }, { fetchImpl });
  assert.deepEqual(await api.startLiveSession(null, "v=0\r\noffer"), LIVE);
  await api.startLiveSession(LIVE.conversation, "v=0\r\noffer");
  assert.deepEqual(requests.map((request) => [request.method, request.url, request.headers["X-CSRFToken"], request.body]), [
    ["POST", "/live/session/", "csrf123", { sdp: "v=0\r\noffer", conversation: null }],
    ["POST", "/live/session/", "csrf123", { sdp: "v=0\r\noffer", conversation: LIVE.conversation }],
  ]);
});

test("a GPT-Live start answered without SDP, or refused, is an ApiError with a sentence", async () => {
  const { fetchImpl } = fakeFetch([
    { status: 201, body: { ...LIVE, sdp: "" } },
    { status: 503, body: { detail: "This server's OpenAI key cannot use GPT-Live; the administrator can set VOICE_API=realtime" } },
  ]);
  const api = createApi(CONFIG, { fetchImpl });
  await assert.rejects(api.startLiveSession(null, "v=0"), { status: 502, message: /unexpected answer/ });
  await assert.rejects(api.startLiveSession(null, "v=0"), { status: 503, message: /cannot use GPT-Live/ });
});

test("session usage goes through the same queue, one object per post, the newest snapshot winning", async () => {
  const { fetchImpl, requests } = fakeFetch([new TypeError("offline")]);
  const api = createApi(CONFIG, { fetchImpl });
  const listeners = {};
  const target = { navigator: { onLine: true }, addEventListener: (name, fn) => (listeners[name] = fn) };
  const queue = createTurnQueue(api, { onGiveUp: () => {}, target });
  queue.postUsage("abc", { session: 1, seconds: 60 });
  await new Promise((resolve) => setImmediate(resolve));
  listeners.offline();
  queue.postUsage("abc", { session: 1, seconds: 75 });
  queue.postUsage("abc", { session: 2, seconds: 5 });
  queue.post("abc", { item_id: "item_1", text: "hi" });
  queue.flushWithKeepalive();
  assert.deepEqual(
    requests.map((request) => [request.url, request.keepalive, request.body]),
    [
      ["/api/conversations/abc/usage/", false, { session: 1, seconds: 60 }],
      ["/api/conversations/abc/turns/", true, [{ item_id: "item_1", text: "hi" }]],
      ["/api/conversations/abc/usage/", true, { session: 1, seconds: 75 }],
      ["/api/conversations/abc/usage/", true, { session: 2, seconds: 5 }],
    ],
  );
});
