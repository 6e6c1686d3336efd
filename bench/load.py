"""The load driver: `python -m bench.load < spec.json` prints the latencies of each phase as JSON.

It runs in its own process so that the server's CPU time and the client's stay apart. A spec is
{"base_url", "phases": [{"name", "duration" | "count", "warmup", "pause_after", "groups": [...]}]};
a group is {"name", "connections", "requests": [...]}, and connection i keeps sending
requests[i % len(requests)] on one keep-alive connection until the phase ends. A request with
"turn": true gets a fresh turn body each time (the realtime client's post after each item).
"""

import asyncio
import json
import sys
import time
import uuid

import aiohttp

TURN_TEXT = (
    "Sure. Tomorrow in Amsterdam it will be mostly cloudy with a chance of light rain in the "
    "afternoon, highs around fourteen degrees and a gentle westerly wind, so bring a light jacket."
)


def turn_body(*, prefix: str, connection: int, seq: int) -> dict:
    """The body the browser posts when a Realtime item is done; item ids never repeat."""
    return {
        "item_id": f"item_{prefix}_{connection}_{seq}",
        "previous_item_id": f"item_{prefix}_{connection}_{seq - 1}" if seq else "",
        "session": 1,
        "position": seq,
        "role": "assistant" if seq % 2 else "user",
        "text": TURN_TEXT[: 80 + (seq * 37) % (len(TURN_TEXT) - 80)],
        "status": "completed",
    }


class Recorder:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[str, int] = {}
        self.samples: dict[str, str] = {}

    def add(self, status: str, latency: float, body: bytes, ok: bool) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if ok:
            self.latencies.append(latency)
        else:
            self.errors += 1
            self.samples.setdefault(status, body[:300].decode(errors="replace"))

    def report(self, seconds: float) -> dict:
        return {
            "latencies": self.latencies,
            "errors": self.errors,
            "statuses": self.statuses,
            "error_samples": self.samples,
            "seconds": seconds,
        }


async def _connection(base_url, template, index, prefix, window, count, recorder, expect_errors, timeout):
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=timeout)
    headers = dict(template.get("headers", {}))
    data = None
    if template.get("json") is not None:
        data = json.dumps(template["json"]).encode()
        headers["Content-Type"] = "application/json"
    if template.get("turn"):
        headers["Content-Type"] = "application/json"
    url = base_url + template["path"]
    loop = asyncio.get_running_loop()
    seq = 0
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        while True:
            if count is not None and seq >= count:
                return
            if count is None and loop.time() >= window[1]:
                return
            if template.get("turn"):
                data = json.dumps(turn_body(prefix=prefix, connection=index, seq=seq)).encode()
            seq += 1
            started = time.perf_counter()
            try:
                async with session.request(template["method"], url, data=data, headers=headers) as response:
                    body = await response.read()
                    status = str(response.status)
                    ok = response.status < 400 or expect_errors
            except (aiohttp.ClientError, TimeoutError) as exc:
                body, status, ok = str(exc).encode(), type(exc).__name__, False
            latency = time.perf_counter() - started
            now = loop.time()
            if count is not None or window[0] <= now <= window[1]:
                recorder.add(status, latency, body, ok)


async def run_phase(base_url: str, phase: dict) -> dict:
    loop = asyncio.get_running_loop()
    count = phase.get("count")
    start = loop.time() + phase.get("warmup", 0.0)
    window = (start, start + phase.get("duration", 0.0))
    prefix = uuid.uuid4().hex[:10]
    recorders, tasks = {}, []
    began = time.perf_counter()
    for group in phase["groups"]:
        recorder = recorders[group["name"]] = Recorder()
        for index in range(group["connections"]):
            template = group["requests"][index % len(group["requests"])]
            coroutine = _connection(
                base_url,
                template,
                index,
                f"{prefix}{group['name']}",
                window,
                count,
                recorder,
                group.get("expect_errors", False),
                group.get("timeout", 60),
            )
            tasks.append((group, asyncio.create_task(coroutine)))
    # Groups marked "background" (the hanging upstream callers) are cancelled when the others end.
    await asyncio.gather(*(task for group, task in tasks if not group.get("background")))
    elapsed = time.perf_counter() - began
    for group, task in tasks:
        if group.get("background"):
            task.cancel()
    await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
    seconds = elapsed if count is not None else phase.get("duration", 0.0)
    result = {"name": phase["name"], "groups": {name: rec.report(seconds) for name, rec in recorders.items()}}
    if phase.get("pause_after"):
        await asyncio.sleep(phase["pause_after"])
    return result


async def run(spec: dict) -> dict:
    return {"phases": [await run_phase(spec["base_url"], phase) for phase in spec["phases"]]}


def main() -> None:
    spec = json.load(sys.stdin)
    json.dump(asyncio.run(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
