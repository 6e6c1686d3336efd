"""`python -m bench --profile`: sample the gunicorn workers with py-spy while a scenario runs.

Each scenario leaves .bench/profile-<scenario>.txt (and the raw collapsed stacks per worker): the share of samples spent in (inclusive) and
on (self) each frame, summed over the workers, with the project's own frames listed first.
"""

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

PROJECT_FRAME = re.compile(r"[(/](conversations|voiceapp|core|accounts|weather)/")
# Leaf frames of threads waiting for work (gunicorn's poller, idle pool threads), not serving it.
IDLE_FRAMES = ("(selectors.py", "_worker (concurrent/futures/thread.py", "wait (threading.py")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


@contextlib.contextmanager
def sampling(master: int, out: Path, name: str):
    """Record every worker of `master` until the block ends, then write the summary."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw_files, recorders = [], []
    for pid in worker_pids(master):
        raw = out / f"profile-{name}-{pid}.raw"
        raw_files.append(raw)
        recorders.append(
            subprocess.Popen(
                [py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "-o", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for recorder in recorders:
            recorder.wait(timeout=30)
        stacks = Counter()
        for raw in raw_files:
            if raw.exists():
                stacks.update(read_collapsed(raw.read_text()))
        (out / f"profile-{name}.txt").write_text(summarize(stacks))


def read_collapsed(text: str) -> Counter:
    """Collapsed stacks ("outer;inner;leaf count" per line) as a Counter of stack -> samples."""
    stacks = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def summarize(stacks: Counter, *, top: int = 25) -> str:
    """Busy samples only (threads waiting for work are left out); inclusive and self shares."""
    busy = Counter(
        {
            stack: n
            for stack, n in stacks.items()
            if not any(idle in stack.rsplit(";", 1)[-1] for idle in IDLE_FRAMES)
        }
    )
    total = sum(busy.values()) or 1
    inclusive, own = Counter(), Counter()
    for stack, samples in busy.items():
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    project = [(f, n) for f, n in inclusive.most_common() if PROJECT_FRAME.search(f)]
    lines = [f"{total} busy samples", "", "project frames, inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in project[:top]]
    lines += ["", "all frames, inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines) + "\n"
