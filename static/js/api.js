// The only module that calls our own server: a CSRF-aware fetch wrapper whose failures are
// ApiErrors carrying the server's sentence, and the retrying turn-post queue.
import { SERVER_UNREACHABLE, httpMessage } from "./messages.js";
import { createRetryQueue } from "./retry-queue.js";

// Keepalive requests share a 64 KiB budget per page; leave room for the end-of-call PATCH.
const KEEPALIVE_BUDGET = 48 * 1024;

export class ApiError extends Error {
  constructor(message, { status = 0, retryAfter = null, data = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.retryAfter = retryAfter;
    this.data = data;
  }
}

// DRF bodies: {"detail": "..."} or field errors {"field": ["..."]} (possibly per list index).
export function errorSentence(data) {
  if (!data || typeof data !== "object") return null;
  if (typeof data.detail === "string") return data.detail;
  for (const value of Object.values(data)) {
    if (typeof value === "string") return value;
    if (value && typeof value === "object") {
      const found = Array.isArray(value) && typeof value[0] === "string" ? value[0] : errorSentence(value);
      if (found) return found;
    }
  }
  return null;
}

export function parseRetryAfter(value, now = Date.now()) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.round((date - now) / 1000));
}

const byteLength = (text) => new TextEncoder().encode(text).length;

// Splits payloads into lists whose JSON stays under `limit` bytes (a lone oversized
// payload gets a list of its own).
export function chunkBySize(payloads, limit) {
  const chunks = [];
  let chunk = [];
  let size = 2;
  for (const payload of payloads) {
    const length = byteLength(JSON.stringify(payload)) + 1;
    if (chunk.length && size + length > limit) {
      chunks.push(chunk);
      chunk = [];
      size = 2;
    }
    chunk.push(payload);
    size += length;
  }
  if (chunk.length) chunks.push(chunk);
  return chunks;
}

export function createApi(config, { fetchImpl = (...args) => globalThis.fetch(...args) } = {}) {
  async function request(method, url, { json, keepalive = false, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = config.csrfToken;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        credentials: "same-origin",
        keepalive,
        signal,
      });
    } catch (error) {
      if (error?.name === "AbortError") throw error;
      throw new ApiError(SERVER_UNREACHABLE, { status: 0 });
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(errorSentence(data) || httpMessage(response.status), {
        status: response.status,
        retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
        data,
      });
    }
    return data;
  }

  const conversationUrl = (id) => `${config.conversationsUrl}${id}/`;
  const turnsUrl = (id) => `${conversationUrl(id)}turns/`;
  const usageUrl = (id) => `${conversationUrl(id)}usage/`;
  const unexpectedAnswer = () =>
    new ApiError("The server gave an unexpected answer. Reload the page and try again.", { status: 502 });

  return {
    request,
    turnsUrl,

    usageUrl,

    // Realtime: the server mints an ephemeral key; the browser then calls the upstream itself.
    async startSession(conversation, { signal } = {}) {
      const data = await request("POST", config.sessionUrl, { json: conversation ? { conversation } : {}, signal });
      if (!data?.client_secret || !data?.calls_url) throw unexpectedAnswer();
      return data;
    },

    // GPT-Live: the server relays the SDP offer upstream (no keys reach the browser).
    async startLiveSession(conversation, sdp, { signal } = {}) {
      const data = await request("POST", config.sessionUrl, { json: { sdp, conversation: conversation || null }, signal });
      if (typeof data?.sdp !== "string" || !data.sdp || !data.conversation) throw unexpectedAnswer();
      return data;
    },

    endConversation(conversation, { keepalive = false } = {}) {
      return request("PATCH", conversationUrl(conversation), { json: { status: "ended" }, keepalive });
    },

    getWeather(location, { signal } = {}) {
      const query = new URLSearchParams({ location });
      return request("GET", `${config.weatherUrl}?${query}`, { signal });
    },

    // Hands the unsent turns to keepalive requests that outlive the page (pagehide).
    sendWithKeepalive(entries) {
      const groups = new Map();
      const singles = [];
      for (const { group, payload, single } of entries) {
        if (single) {
          singles.push([group, payload]);
          continue;
        }
        if (!groups.has(group)) groups.set(group, []);
        groups.get(group).push(payload);
      }
      let budget = KEEPALIVE_BUDGET;
      const sendOne = (url, json) => {
        const size = byteLength(JSON.stringify(json));
        if (size > budget) return false; // beyond what may outlive the page
        budget -= size;
        request("POST", url, { json, keepalive: true }).catch(() => {});
        return true;
      };
      for (const [url, payloads] of groups) {
        for (const chunk of chunkBySize(payloads, budget)) if (!sendOne(url, chunk)) return;
      }
      for (const [url, payload] of singles) if (!sendOne(url, payload)) return;
    },
  };
}

// The turn (and session usage) post queue wired to the API and to the browser's online/offline events.
export function createTurnQueue(api, { onGiveUp, target = globalThis }) {
  const queue = createRetryQueue({
    send: (url, payload) => api.request("POST", url, { json: payload }),
    onGiveUp: (entry, error) => onGiveUp(error),
  });
  if (target.navigator && target.navigator.onLine === false) queue.setOnline(false);
  target.addEventListener?.("online", () => queue.setOnline(true));
  target.addEventListener?.("offline", () => queue.setOnline(false));
  return {
    post(conversation, turn) {
      queue.enqueue(turn.item_id, api.turnsUrl(conversation), turn);
    },
    // A session's time is a cumulative snapshot: a newer one replaces one still waiting.
    postUsage(conversation, usage) {
      queue.enqueue(`session-${usage.session}`, api.usageUrl(conversation), usage, { batch: false });
    },
    flush: () => queue.flush(),
    flushWithKeepalive() {
      api.sendWithKeepalive(queue.drain());
    },
  };
}
