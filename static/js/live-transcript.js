// GPT-Live sends transcripts as timed fragments with no item ids and no "turn done" event;
// this groups them into turns. A port of the policy of openai-python's TranscriptGrouper
// (openai/lib/live/_transcript_grouping.py + _transcript_state.py, itself a port of the
// TypeScript SDK's), with two deliberate differences for an archive:
// - backchannels ("mhm", "okay") are kept as turns: the SDK's backchannel_max_duration_ms = 0,
//   which turns its whole suppression branch off, so it is left out here;
// - a turn's id is "{live session id}:{its first fragment's event_id}", stable across retries
//   and duplicate posts, instead of a counter local to one grouper instance.
// closeOpen() (a tool call or a typed message starts a new turn) is ours too.
// No clocks: every call takes `now` (ms); wakeAt(now) says when tick(now) is next due.
// Pure from the outside: push/tick/closeOpen/finish work on a clone and return it.

export const GROUPING = {
  minTurnSeparationMs: 500, // a new speaker's fragment this close to the current turn waits
  // An assistant turn with no new text for this long is complete. The SDK's default is 2 s, but
  // its clock takes a fragment to arrive when its interval ends; one delivered as its speech
  // starts (a sentence part of 2-4 s, as the emulator does) would close the turn between two
  // parts of one answer. 5 s keeps an answer whole; a user speaking still ends it at once.
  assistantSilenceMs: 5000,
  coalesceMs: 50, // fragments of both speakers with the same interval: wait briefly for both
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;

const validTime = (value) => Number.isSafeInteger(value) && value >= 0 && value <= MAX_SAFE;

// One speaker's text of one turn, in progress.
function newTurn(fragment, idPrefix) {
  return {
    id: `${idPrefix}:${fragment.eventId}`,
    previousId: null,
    speaker: fragment.speaker,
    text: fragment.text,
    startMs: fragment.startMs,
    endMs: fragment.endMs,
    emitted: false,
  };
}

// `separate`: the other speaker talked in between, so join words with a space if needed.
function append(turn, fragment, separate = false) {
  const space =
    separate &&
    turn.text &&
    fragment.text &&
    LETTER_OR_NUMBER.test(turn.text.at(-1)) &&
    LETTER_OR_NUMBER.test(fragment.text[0]);
  turn.text += (space ? " " : "") + fragment.text;
  turn.endMs = Math.max(turn.endMs, fragment.endMs);
}

const snapshot = ({ id, previousId, speaker, text, startMs, endMs }) => ({ id, previousId, speaker, text, startMs, endMs });

export class TranscriptGrouper {
  constructor(idPrefix, options = GROUPING) {
    this.idPrefix = idPrefix;
    this.options = options;
    this.current = null; // the open turn
    this.buffered = null; // the other speaker's fragments held back (too close to the current turn)
    this.lastId = null;
    this.seen = new Set(); // event ids: a fragment delivered twice counts once
    this.pending = []; // [{fragment, receivedAt}] with one interval, waiting for the other speaker
    this.anchor = null; // {sourceMs, receivedAt}: maps the session timeline onto `now`
    this.lastStartMs = null;
    this.closed = false;
  }

  clone() {
    const copy = Object.assign(Object.create(TranscriptGrouper.prototype), this);
    copy.current = this.current && { ...this.current };
    copy.buffered = this.buffered && { ...this.buffered };
    copy.seen = new Set(this.seen);
    copy.pending = [...this.pending];
    return copy;
  }

  get speaker() {
    return this.current?.speaker ?? null;
  }

  // A session.input_transcript.delta / session.output_transcript.delta event. Returns updates:
  // {type: "updated", segment} | {type: "closed", segment, reason}. Malformed events are ignored.
  push(event, now) {
    const speaker = event.type === "session.input_transcript.delta" ? "user" : "assistant";
    const { event_id: eventId, delta: text, start_ms: startMs, end_ms: endMs } = event;
    if (this.closed || typeof eventId !== "string" || !eventId || typeof text !== "string") return [];
    if (!validTime(startMs) || !validTime(endMs) || endMs < startMs) return [];
    if (this.seen.has(eventId)) return [];
    this.seen.add(eventId);
    if (!text) return [];
    const received = { fragment: { speaker, text, startMs, endMs, eventId }, receivedAt: now };
    const updates = [];
    const first = this.pending[0]?.fragment;
    if (first && first.startMs === startMs && first.endMs === endMs) {
      this.pending.push(received);
      if (this.pending.some((part) => part.fragment.speaker !== speaker)) updates.push(...this.flushPending(now));
    } else {
      updates.push(...this.flushPending(now));
      if (this.speaker === speaker) updates.push(...this.commit([received], now));
      else this.pending.push(received);
    }
    return updates;
  }

  // Timers: call when wakeAt(now) is reached.
  tick(now) {
    return [...this.flushPending(now), ...this.advance(this.sourceNow(now))];
  }

  // When tick() is next due (ms, same clock as `now`), or null.
  wakeAt(now) {
    if (this.closed) return null;
    if (this.pending.length) return Math.max(now, this.pending[0].receivedAt + this.options.coalesceMs);
    const deadline = this.deadline();
    if (deadline == null) return null;
    return now + Math.max(0, Math.ceil(deadline - this.sourceNow(now)));
  }

  // Closes the open turns without ending the grouper (the next fragment starts a new turn).
  closeOpen(now, reason = "manual") {
    return [...this.flushPending(now), ...this.close(this.sourceNow(now), reason)];
  }

  // The session is over: close everything; later events are ignored.
  finish(now, reason = "session_closed") {
    if (this.closed) return [];
    const updates = this.closeOpen(now, reason);
    this.closed = true;
    this.seen.clear();
    return updates;
  }

  // --- the clock: session timeline ("source") time from local time -------------------------

  sourceNow(now) {
    if (!this.anchor) return 0;
    return this.anchor.sourceMs + Math.max(0, now - this.anchor.receivedAt);
  }

  flushPending(now) {
    const pending = this.pending;
    this.pending = [];
    return this.commit(pending, now);
  }

  commit(received, now) {
    if (!received.length) return [];
    const first = received[0].fragment;
    const updates = [];
    if (this.lastStartMs != null && first.startMs < this.lastStartMs) {
      updates.push(...this.close(this.sourceNow(now), "timestamp_reset"));
      this.anchor = null;
    }
    this.lastStartMs = first.startMs;
    this.anchor = {
      sourceMs: Math.max(this.anchor?.sourceMs ?? 0, ...received.map((part) => part.fragment.endMs)),
      receivedAt: Math.max(...received.map((part) => part.receivedAt)),
    };
    updates.push(...this.process(received.map((part) => part.fragment)));
    return updates;
  }

  // --- the grouping policy, on the session timeline ------------------------------------------

  process(fragments) {
    const updates = [];
    const preferred = this.speaker ?? "user";
    const ordered = [
      ...fragments.filter((part) => part.speaker === preferred),
      ...fragments.filter((part) => part.speaker !== preferred),
    ];
    if (!ordered.length) return updates;
    const first = ordered[0];
    let deadline = this.deadline();
    while (deadline != null && deadline < first.startMs) {
      updates.push(...this.advance(deadline));
      deadline = this.deadline();
    }
    if (this.current && !ordered.some((part) => part.speaker === this.speaker)) {
      updates.push(...this.advance(first.startMs, ordered.some((part) => part.speaker === "user")));
    }
    for (const fragment of ordered) updates.push(...this.ingest(fragment));
    return updates;
  }

  advance(timeMs, hasIncomingUser = false) {
    const { minTurnSeparationMs, assistantSilenceMs } = this.options;
    if (this.current && this.buffered && timeMs >= this.current.endMs + minTurnSeparationMs) {
      return this.promote();
    }
    if (this.current?.speaker === "assistant" && !hasIncomingUser && timeMs >= this.current.endMs + assistantSilenceMs) {
      return this.finishCurrent("inactivity");
    }
    return [];
  }

  deadline() {
    if (!this.current) return null;
    if (this.buffered) return this.current.endMs + this.options.minTurnSeparationMs;
    if (this.current.speaker === "assistant") return this.current.endMs + this.options.assistantSilenceMs;
    return null;
  }

  close(timeMs, reason) {
    const buffered = this.buffered;
    const updates = this.finishCurrent(reason);
    this.buffered = null;
    if (buffered?.text) updates.push(...this.emit(buffered), ...this.finishTurn(buffered, reason));
    return updates;
  }

  ingest(fragment) {
    if (!this.current) {
      this.current = newTurn(fragment, this.idPrefix);
      return this.emit(this.current);
    }
    if (fragment.speaker === this.current.speaker) {
      append(this.current, fragment, this.buffered != null);
      return this.emit(this.current);
    }
    if (this.current.speaker === "assistant") {
      // The user speaks: the assistant's turn is over.
      this.buffer(fragment);
      return this.promote();
    }
    if (fragment.startMs - this.current.endMs < this.options.minTurnSeparationMs) {
      this.buffer(fragment); // the assistant starts while the user is (almost) still talking
      return [];
    }
    const buffered = this.buffered;
    this.buffered = null;
    const updates = this.finishCurrent("speaker_change");
    if (buffered) {
      this.current = buffered;
      append(this.current, fragment);
    } else {
      this.current = newTurn(fragment, this.idPrefix);
    }
    updates.push(...this.emit(this.current));
    return updates;
  }

  buffer(fragment) {
    if (this.buffered) append(this.buffered, fragment);
    else this.buffered = newTurn(fragment, this.idPrefix);
  }

  promote() {
    if (!this.buffered) return [];
    const updates = this.finishCurrent("speaker_change");
    this.current = this.buffered;
    this.buffered = null;
    updates.push(...this.emit(this.current));
    return updates;
  }

  finishCurrent(reason) {
    const current = this.current;
    this.current = null;
    return current ? this.finishTurn(current, reason) : [];
  }

  finishTurn(turn, reason) {
    return turn.emitted ? [{ type: "closed", segment: snapshot(turn), reason }] : [];
  }

  emit(turn) {
    if (!turn.text) return [];
    if (!turn.emitted) {
      turn.previousId = this.lastId;
      this.lastId = turn.id;
      turn.emitted = true;
    }
    return [{ type: "updated", segment: snapshot(turn) }];
  }
}
