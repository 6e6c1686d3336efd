// Replays transcript cases through static/js/live-transcript.js and prints what it emitted,
// in the shape tests/conversations/test_live_transcript_port.py compares with the SDK's policy.
// Usage: node tests/js/replay-grouper.mjs < cases.json > results.json
import { readFileSync } from "node:fs";

import { TranscriptGrouper } from "../../static/js/live-transcript.js";

const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map((ops) => {
  const grouper = new TranscriptGrouper("S");
  const out = [];
  for (const op of ops) {
    let updates;
    if (op.op === "push") updates = grouper.push(op.event, op.now);
    else if (op.op === "tick") updates = grouper.tick(op.now);
    else updates = grouper.finish(op.now, "session_closed");
    for (const { type, segment: s, reason } of updates) {
      const row = [type, s.id, s.previousId, s.speaker, s.text, s.startMs, s.endMs];
      out.push(type === "closed" ? [...row, reason] : row);
    }
    const wake = grouper.wakeAt(op.now);
    out.push(["wake", wake == null ? null : wake - op.now]);
  }
  return out;
});
process.stdout.write(JSON.stringify(results));
