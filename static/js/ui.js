// The only module that touches the DOM of the talk page. All transcript text goes in
// through textContent: it is user and model content, never HTML.

const STATUS = {
  idle: "Ready",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  listening: "Listening",
  hearing: "Hearing you",
  thinking: "Thinking…",
  speaking: "Speaking",
  muted: "Muted",
  saving: "Saving…",
  ended: "Call ended",
  error: "Disconnected",
};

const WHO = { user: "You", assistant: "Assistant", tool: "Tool" };

export function formatClock(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

function entryText(entry, describeCall) {
  if (entry.role === "tool") {
    if (entry.status === "running" || entry.status === "pending" || entry.status === "streaming") {
      return describeCall(entry.name, entry.arguments);
    }
    if (entry.status === "interrupted" && !entry.text) return "Weather lookup cancelled.";
    return entry.text || entry.name || "Tool call";
  }
  if (entry.role === "user" && !entry.text) {
    return entry.status === "failed" ? "(could not be transcribed)" : "…";
  }
  if (entry.role === "assistant" && !entry.text && entry.status === "interrupted") return "…";
  return entry.text;
}

function fillEntry(li, entry, describeCall) {
  li.dataset.role = entry.role;
  li.dataset.itemId = entry.id;
  li.dataset.status = entry.status || "completed";
  const live = entry.status === "streaming" || entry.status === "transcribing" || entry.status === "pending" || entry.status === "running";
  li.setAttribute("aria-busy", String(live));
  let who = li.querySelector(".turn-who");
  let text = li.querySelector(".turn-text");
  if (!text) {
    who = li.ownerDocument.createElement("span");
    who.className = "turn-who";
    text = li.ownerDocument.createElement("p");
    text.className = "turn-text";
    li.className = "turn";
    li.append(who, text);
  }
  who.textContent = WHO[entry.role] || entry.role;
  const value = entryText(entry, describeCall);
  if (text.textContent !== value) text.textContent = value;
  li.classList.toggle("turn-placeholder", !entry.text);
  let note = li.querySelector(".turn-note");
  const interrupted = entry.role === "assistant" && entry.status === "interrupted";
  if (interrupted && !note) {
    note = li.ownerDocument.createElement("span");
    note.className = "turn-note";
    note.textContent = "(interrupted)";
    li.append(note);
  } else if (!interrupted && note) {
    note.remove();
  }
}

export function createUi(doc = document) {
  const $ = (id) => doc.getElementById(id);
  const connect = $("connect");
  const connectLabel = connect.querySelector(".connect-label") || connect;
  const status = $("status");
  const mute = $("mute");
  const level = $("level");
  const timer = $("timer");
  const transcript = $("transcript");
  const empty = $("transcript-empty");
  const form = $("text-input");
  const input = form.querySelector("input");
  const send = form.querySelector("button[type=submit]");
  const error = $("error");
  const errorText = $("error-text");
  const retry = $("error-retry");
  const notice = $("notice");
  const limits = $("rate-limits");
  let settled = transcript.children.length; // entries before this index belong to earlier sessions
  let live = new Map(); // item id -> <li> of the current realtime session
  let lastLevel = -1;

  $("error-dismiss").addEventListener("click", () => (error.hidden = true));

  const showEmpty = () => (empty.hidden = transcript.children.length > 0);

  return {
    remoteAudio: $("remote-audio"),

    onConnect(handler) {
      connect.addEventListener("click", handler);
    },
    onRetry(handler) {
      retry.addEventListener("click", () => {
        error.hidden = true;
        handler();
      });
    },
    onMute(handler) {
      mute.addEventListener("click", () => handler(mute.getAttribute("aria-pressed") !== "true"));
    },
    onSend(handler) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        input.value = "";
        handler(value);
      });
    },

    // "idle" | "connecting" | "connected" | "stopping" (saving the last turns)
    setConnection(state) {
      const active = state === "connecting" || state === "connected";
      connect.setAttribute("aria-pressed", String(active));
      connect.dataset.state = state;
      connect.disabled = state === "stopping";
      connectLabel.textContent = state === "connecting" ? "Cancel" : active ? "Stop" : "Start";
      mute.disabled = state !== "connected";
      input.disabled = send.disabled = state !== "connected";
      if (!active) this.setMuted(false);
      doc.body.classList.toggle("in-call", active);
    },

    setStatus(key) {
      status.dataset.state = key;
      status.textContent = STATUS[key] || key;
    },

    setMuted(muted) {
      mute.setAttribute("aria-pressed", String(muted));
      mute.querySelector(".mute-label").textContent = muted ? "Unmute" : "Mute";
    },

    setLevel(value) {
      const rounded = Math.round(value * 100);
      if (rounded === lastLevel) return;
      lastLevel = rounded;
      // CSSOM custom property: allowed under a CSP without 'unsafe-inline' (no style attribute in HTML).
      level.style.setProperty("--level", String(value));
      level.setAttribute("aria-valuenow", String(rounded));
    },

    setTimer(elapsed, limit) {
      timer.textContent = limit ? `${formatClock(elapsed)} / ${formatClock(limit)}` : formatClock(elapsed);
      timer.classList.toggle("timer-warning", Boolean(limit) && limit - elapsed <= 60);
    },

    // retry: offer the Retry button (continues the same conversation).
    showError(message, { retry: withRetry = false } = {}) {
      errorText.textContent = message;
      retry.hidden = !withRetry;
      error.hidden = false;
      if (withRetry) retry.focus();
    },
    clearError() {
      error.hidden = true;
    },
    showNotice(message) {
      notice.textContent = message;
      notice.hidden = !message;
    },
    // Clears the notice if it still says `message` (a newer one stays).
    clearNotice(message) {
      if (notice.textContent === message) this.showNotice("");
    },

    setRateLimits(list) {
      const tokens = (list || []).find((limit) => limit.name === "tokens");
      limits.textContent = tokens ? `${tokens.remaining.toLocaleString()} tokens left this minute` : "";
    },

    // Turns stored before this page (continuing a conversation), in their stored order.
    renderHistory(turns, describeCall) {
      for (const turn of turns) {
        const li = doc.createElement("li");
        li.dataset.history = "";
        fillEntry(li, { id: turn.item_id, role: turn.role, text: turn.text, status: turn.status, name: turn.name }, describeCall);
        transcript.append(li);
      }
      settled = transcript.children.length;
      showEmpty();
    },

    // Live entries in conversation order; moves an entry when a late item belongs earlier.
    renderTranscript(entries, describeCall) {
      const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
      entries.forEach((entry, index) => {
        let li = live.get(entry.id);
        if (!li) {
          li = doc.createElement("li");
          live.set(entry.id, li);
        }
        fillEntry(li, entry, describeCall);
        const slot = transcript.children[settled + index] || null;
        if (slot !== li) transcript.insertBefore(li, slot);
      });
      showEmpty();
      if (nearBottom) transcript.scrollTop = transcript.scrollHeight;
    },

    // A new realtime session starts: keep what is on screen, append after it.
    settleTranscript() {
      settled = transcript.children.length;
      live = new Map();
    },

    focusConnect() {
      connect.focus();
    },
  };
}
