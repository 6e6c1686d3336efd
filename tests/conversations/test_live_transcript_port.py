"""The browser's GPT-Live transcript grouping (static/js/live-transcript.js) is a port of the
openai SDK's TranscriptGrouper policy: random fragment sequences (speaker changes, overlaps,
gaps, duplicates, empty deltas, timestamp resets, timer ticks) must give the same turns, texts,
close reasons and timer deadlines through the JS port as through the SDK's own code, with the
SDK's backchannel suppression off (we keep every word: this is an archive) and the 5 s of
assistant silence the port is configured with."""

import json
import random
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from openai.lib.live._transcript_state import TranscriptState
from openai.lib.live._types import TranscriptGrouperOptions, TranscriptSegmentClosedEvent

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["hello", " there", "ok", "What's", " the weather", "", "yes.", "mhm", " in Oslo?"]


def random_case(rnd: random.Random) -> list[dict]:
    ops, source_ms, now, count = [], 0, 0, 0
    for _ in range(rnd.randint(3, 25)):
        now += rnd.choice([0, 10, 30, 60, 200, 700, 2500, 6000])
        if rnd.random() > 0.75:
            ops.append({"op": "tick", "now": now})
            continue
        if rnd.random() < 0.1 and source_ms > 1000:
            source_ms = rnd.randint(0, source_ms)  # the session timeline goes backwards
        start = source_ms + rnd.choice([0, 0, 100, 300, 600, 2100, 3000, 5200])
        end = start + rnd.choice([0, 200, 500, 900])
        source_ms = end if rnd.random() < 0.8 else start
        count += 1
        duplicate = count > 1 and rnd.random() < 0.08
        kind = rnd.choice(["input", "output"])
        event = {
            "type": f"session.{kind}_transcript.delta",
            "event_id": f"event_{count - 1 if duplicate else count}",
            "delta": rnd.choice(TEXTS),
            "start_ms": start,
            "end_ms": end,
        }
        ops.append({"op": "push", "now": now, "event": event})
    ops.append({"op": "finish", "now": now + 5})
    return ops


def sdk_replay(ops: list[dict]) -> list[list]:
    clock = [0]
    state = TranscriptState(
        TranscriptGrouperOptions(backchannel_max_duration_ms=0, assistant_silence_ms=5000), lambda: clock[0]
    )
    out = []
    for op in ops:
        clock[0] = op["now"]
        if op["op"] == "push":
            updates = state.push(SimpleNamespace(**op["event"])) or []
        elif op["op"] == "tick":
            updates = state.tick()
        else:
            updates = state.finish("session_closed")
        for update in updates:
            closed = isinstance(update, TranscriptSegmentClosedEvent)
            s = update.segment if closed else update
            row = [
                "closed" if closed else "updated",
                s.id,
                s.previous_id,
                s.speaker,
                s.text,
                s.start_ms,
                s.end_ms,
            ]
            out.append([*row, update.reason] if closed else row)
        out.append(["wake", state.delay()])
    return out


def normalised(rows: list[list]) -> list[list]:
    """Segment ids differ by design (ours are "{session}:{event_id}"): number them by appearance."""
    numbers: dict[str, int] = {}

    def number(segment_id):
        return None if segment_id is None else numbers.setdefault(segment_id, len(numbers))

    return [row if row[0] == "wake" else [row[0], number(row[1]), number(row[2]), *row[3:]] for row in rows]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (make test-js needs it)")
def test_the_js_port_groups_fragments_exactly_like_the_sdk():
    rnd = random.Random(20261202)
    cases = [random_case(rnd) for _ in range(400)]
    replayed = subprocess.run(
        ["node", str(ROOT / "tests/js/replay-grouper.mjs")],
        input=json.dumps(cases), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    ours = json.loads(replayed.stdout)
    for ops, js_rows in zip(cases, ours, strict=True):
        assert normalised(js_rows) == normalised(sdk_replay(ops)), json.dumps(ops)


def test_the_ids_are_the_session_and_the_first_fragment():
    """Sanity of the comparison itself: the port really does emit our stable ids."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    ops = [
        {"op": "push", "now": 0, "event": {"type": "session.input_transcript.delta", "event_id": "event_7",
                                           "delta": "hi", "start_ms": 0, "end_ms": 300}},
        {"op": "finish", "now": 100},
    ]  # fmt: skip
    replayed = subprocess.run(
        ["node", str(ROOT / "tests/js/replay-grouper.mjs")],
        input=json.dumps([ops]), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    closed = [row for row in json.loads(replayed.stdout)[0] if row[0] == "closed"]
    assert closed == [["closed", "S:event_7", None, "user", "hi", 0, 300, "session_closed"]]
