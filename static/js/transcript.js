// Pure transcript helpers: conversation order, heard-text estimates and the turn payload.
// No DOM, no browser globals, no Realtime event names: node --test imports this file.

// Speech rate used to estimate how long a reply's audio lasts (≈150 words a minute).
// There are no word timings on WebRTC, so an interrupted reply's heard text is a guess.
const CHARS_PER_SECOND = 15;

export function estimateAudioMs(text) {
  return Math.round(((text || "").length / CHARS_PER_SECOND) * 1000);
}

// The part of `text` the user probably heard: a prefix proportional to heardMs / totalMs,
// cut back to a word boundary so we never store half a word.
export function heardText(text, heardMs, totalMs = estimateAudioMs(text)) {
  if (!text) return "";
  if (!totalMs || heardMs >= totalMs) return text;
  if (heardMs <= 0) return "";
  const cut = Math.round((text.length * heardMs) / totalMs);
  const space = text.lastIndexOf(" ", cut);
  const end = text[cut] === " " || cut >= text.length ? cut : space;
  return end > 0 ? text.slice(0, end).trimEnd() : "";
}

// Splits heardMs over consecutive audio items of one response (usually there is one).
export function allocateHeard(durationsMs, heardMs) {
  let left = Math.max(0, heardMs);
  return durationsMs.map((duration) => {
    const part = Math.min(left, duration);
    left -= part;
    return Math.round(part);
  });
}

// Items in conversation order: walk the previous_item_id chain; creation position breaks ties
// and places items whose predecessor we never saw. A late user transcript keeps its place.
export function conversationOrder(items) {
  const list = Object.values(items).sort((a, b) => a.position - b.position);
  const children = new Map();
  const roots = [];
  for (const item of list) {
    if (item.prev && items[item.prev] && item.prev !== item.id) {
      if (!children.has(item.prev)) children.set(item.prev, []);
      children.get(item.prev).push(item);
    } else {
      roots.push(item);
    }
  }
  const ordered = [];
  const seen = new Set();
  const visit = (item) => {
    if (seen.has(item.id)) return;
    seen.add(item.id);
    ordered.push(item);
    for (const child of children.get(item.id) || []) visit(child);
  };
  roots.forEach(visit);
  list.forEach(visit); // a broken chain (a cycle) must not hide items
  return ordered;
}

// The nearest earlier item that is stored as a turn, skipping items we never post
// (function_call_output, system messages), so the server's chain has no gaps.
export function storedPrevious(items, id) {
  const seen = new Set([id]);
  let prev = items[id]?.prev ?? null;
  while (prev && items[prev] && !isStored(items[prev]) && !seen.has(prev)) {
    seen.add(prev);
    prev = items[prev].prev ?? null;
  }
  return prev || null;
}

export function isStored(item) {
  return item.role === "user" || item.role === "assistant" || item.role === "tool";
}

const iso = (ms) => (ms == null ? null : new Date(ms).toISOString());

// The body of POST /api/conversations/<uuid>/turns/ for one item.
export function toTurn(item, { items, session }) {
  const turn = {
    item_id: item.id,
    previous_item_id: storedPrevious(items, item.id),
    session,
    position: item.position,
    role: item.role,
    text: item.text || "",
    status: item.status === "interrupted" || item.status === "failed" ? item.status : "completed",
    started_at: iso(item.startedAt),
    ended_at: iso(item.endedAt),
    audio_end_ms: item.audioEndMs ?? null,
    usage: item.usage ?? null,
  };
  if (item.role === "tool") {
    Object.assign(turn, {
      name: item.name || "",
      call_id: item.callId || "",
      arguments: item.arguments || "",
      output: item.output || "",
    });
  }
  return turn;
}
