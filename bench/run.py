"""Orchestrates `make bench`: database, fake upstream, gunicorn, the load scenarios, table and JSON."""

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.profile import sampling as profiling
from bench.stats import Result, Target, all_met, format_table, merge, to_json

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"
UPSTREAM_DELAY = 0.05  # seconds the fake client_secrets takes, like a fast real upstream
LOAD_CONNECTIONS = 16
HANG_CONNECTIONS = 8  # half the server's threads wait on a dead upstream
HISTORY_CONNECTIONS = 8
EXPORT_SIZES = (1_000, 10_000)
HISTORY_SIZES = (10, 1_000)
EXPORT_FORMATS = ("md", "txt", "csv", "srt")
MIB = 1024 * 1024
WEB_SCENARIOS = ["ingest", "mint", "live_session", "export", "history", "upstream_hang"]
SLOW_EXPORT_MS = 8_000  # an export slower than this is measured once, and its memory is not probed


@dataclass
class Plan:
    duration: float  # seconds of one measured phase
    rounds: int  # how often baseline and ours alternate
    export_repeats: int
    warmup: float = 0.5


PLANS = {
    "full": Plan(duration=4.0, rounds=3, export_repeats=3),
    "quick": Plan(duration=2.0, rounds=2, export_repeats=2),
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(
    *, database_url: str, cache_url: str, upstream: str, static_root: str, conn_max_age: int
) -> dict:
    """The deployed configuration, on loopback: no TLS, the fake upstream, throttles out of the way."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_STATIC_ROOT": static_root,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + os.urandom(24).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": str(conn_max_age),
        "CACHE_URL": cache_url,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": f"{upstream}/v1",
        "OPEN_METEO_GEOCODING_URL": f"{upstream}/v1/search",
        "OPEN_METEO_FORECAST_URL": f"{upstream}/v1/forecast",
        # Per user and per second, so the throttle still runs (and stores its history) on every request.
        "TURNS_THROTTLE_RATE": "1000/s",
        "MINT_THROTTLE_RATE": "1000/s",
        "WEATHER_THROTTLE_RATE": "1000/s",
        "REALTIME_SESSIONS_PER_DAY": "100000000",
        "LOG_LEVEL": "INFO",
    }


@contextlib.contextmanager
def process(args: list[str], *, env: dict, logfile: Path, ready):
    """Start a child in its own process group, wait until `ready()`, stop it (and only it) afterwards."""
    with logfile.open("w") as out:
        child = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while not ready():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not start; see {logfile}")
            time.sleep(0.2)
        yield child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


class Bench:
    def __init__(
        self,
        *,
        base_url: str,
        upstream: str,
        fixtures,
        plan: Plan,
        upstream_timeout: float,
        live_base_url: str | None = None,
    ):
        self.base_url = base_url
        self.live_base_url = live_base_url  # the second server, VOICE_API=live
        self.upstream_timeout = upstream_timeout
        self.upstream = upstream
        self.fx = fixtures
        self.plan = plan
        self.details: dict = {}
        self.http = httpx.Client(base_url=base_url, timeout=60)

    # --- helpers -------------------------------------------------------------------
    def load(self, phases: list[dict], *, base_url: str | None = None) -> list[dict]:
        spec = {"base_url": base_url or self.base_url, "phases": phases}
        done = subprocess.run(
            [sys.executable, "-m", "bench.load"],
            cwd=ROOT,
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)["phases"]

    def alternate(
        self,
        name: str,
        groups: dict[str, list[dict]],
        *,
        pause_after: dict | None = None,
        base_url: str | None = None,
    ) -> dict:
        """Run each load in turn, `rounds` times, and merge each one's rounds: {load: {group: summary}}."""
        phases = []
        for _ in range(self.plan.rounds):
            for load, load_groups in groups.items():
                phases.append(
                    {
                        "name": load,
                        "duration": self.plan.duration,
                        "warmup": self.plan.warmup,
                        "pause_after": (pause_after or {}).get(load, 0),
                        "groups": load_groups,
                    }
                )
        runs = self.load(phases, base_url=base_url)
        merged: dict[str, dict] = {}
        for load in groups:
            merged[load] = {}
            for group in groups[load]:
                group_runs = [run["groups"][group["name"]] for run in runs if run["name"] == load]
                merged[load][group["name"]] = _merge_runs(group_runs)
        self.details[name] = merged
        return merged

    def check(
        self, method: str, path: str, *, expect: tuple[int, ...], base_url: str | None = None, **kwargs
    ) -> str | None:
        """None when the endpoint answers as expected, else a note saying what it did."""
        try:
            response = self.http.request(method, (base_url or "") + path, timeout=20, **kwargs)
        except httpx.HTTPError as exc:
            return f"{method} {path.split('?')[0]} failed: {type(exc).__name__} (see .bench/gunicorn.log)"
        if response.status_code in expect:
            return None
        return f"{method} {path.split('?')[0]} answered {response.status_code}: {response.text[:120]!r}"

    def check_turn_post(self, prefix: str) -> str | None:
        """None when the first load user can post a turn, else a note saying what happened."""
        from bench.load import turn_body

        first = self.turn_requests()[0]
        body = turn_body(prefix=prefix, connection=0, seq=0)
        return self.check("POST", first["path"], expect=(200, 201), headers=first["headers"], json=body)

    def token(self, key: str) -> dict:
        return {"Authorization": f"Token {key}"}

    def turn_requests(self) -> list[dict]:
        return [
            {
                "method": "POST",
                "path": f"/api/conversations/{conversation}/turns/",
                "headers": self.token(key),
                "turn": True,
            }
            for key, conversation in zip(self.fx.load_tokens, self.fx.load_conversations, strict=True)
        ]

    def noop_token_requests(self, method: str = "POST") -> list[dict]:
        return [
            {"method": method, "path": "/bench/noop/", "headers": self.token(key), "turn": method == "POST"}
            for key in self.fx.load_tokens
        ]

    # --- scenarios -------------------------------------------------------------------
    def ingest(self) -> list[Result]:
        from bench.seed import LOAD_USERS

        broken = self.check_turn_post("check")
        if broken:
            return _missing(["ingest", "ingest_p99"], broken)
        runs = self.alternate(
            "ingest",
            {
                "noop": [
                    {"name": "main", "connections": LOAD_CONNECTIONS, "requests": self.noop_token_requests()}
                ],
                "ingest": [
                    {"name": "main", "connections": LOAD_CONNECTIONS, "requests": self.turn_requests()}
                ],
            },
        )
        noop, ours = runs["noop"]["main"], runs["ingest"]["main"]
        note = _errors_note(ours) or _errors_note(noop)
        users = f"{LOAD_CONNECTIONS} connections, one user and conversation each ({LOAD_USERS} users)"
        return [
            Result("ingest", ours["rps"], noop["rps"], "req/s", Target(">=", 0.7), note or users),
            Result("ingest_p99", ours["p99_ms"], noop["p99_ms"], "ms", Target("<=", 2.0)),
        ]

    def mint(self) -> list[Result]:
        return self.session_start("mint", "/realtime/session/", {}, self.base_url)

    def live_session(self) -> list[Result]:
        from bench.sdp import OFFER

        return self.session_start("live_session", "/live/session/", {"sdp": OFFER}, self.live_base_url)

    def session_start(self, name: str, path: str, body: dict, base_url: str) -> list[Result]:
        """p50 of a session start minus the fake upstream's own time (its p50, as it measured it),
        against the no-op's p50 on the same server with the same session and CSRF token."""
        from bench.seed import csrf_headers

        headers = csrf_headers(self.fx.mint_cookies[0])
        broken = self.check("POST", path, expect=(201,), headers=headers, json=body, base_url=base_url)
        if broken:
            return _missing([name], broken)

        def one(path: str, body: dict) -> list[dict]:
            # One connection: the latency a user waits for, without queueing behind other requests.
            request = {"method": "POST", "path": path, "headers": headers, "json": body}
            return [{"name": "main", "connections": 1, "requests": [request]}]

        self.upstream_timings()  # clear
        runs = self.alternate(
            name, {"noop": one("/bench/noop/", {}), name: one(path, body)}, base_url=base_url
        )
        upstream_ms = statistics.median(self.upstream_timings() or [UPSTREAM_DELAY]) * 1000
        noop, ours = runs["noop"]["main"], runs[name]["main"]
        self.details[name]["upstream_p50_ms"] = upstream_ms
        note = _errors_note(ours) or (
            f"p50 {ours['p50_ms']:.1f} ms minus the fake upstream's own p50 {upstream_ms:.1f} ms "
            f"(its delay is {1000 * UPSTREAM_DELAY:.0f} ms), vs the no-op's p50 (session + CSRF both), "
            "one connection"
        )
        return [Result(name, ours["p50_ms"] - upstream_ms, noop["p50_ms"], "ms", Target("<=", 3.0), note)]

    def upstream_timings(self) -> list[float]:
        """Seconds each session create took inside the fake upstream since the last call."""
        response = httpx.post(f"{self.upstream}/_bench/timings", timeout=5)
        response.raise_for_status()
        return response.json()

    def export(self) -> list[Result]:
        headers = self.token(self.fx.export_token)
        small = self.fx.export_conversations[min(EXPORT_SIZES)]
        broken = self.check(
            "GET", f"/api/conversations/{small}/export/?format=json", expect=(200,), headers=headers
        )
        if broken:
            return _missing(["export", "export_1k", "export_memory"], broken)
        timings = {}
        for size in EXPORT_SIZES:
            conversation = self.fx.export_conversations[size]
            loads = {"raw": f"/bench/export-raw/{conversation}/"}
            formats = ("json", *EXPORT_FORMATS) if size == max(EXPORT_SIZES) else ("json",)
            for fmt in formats:
                loads[fmt] = f"/api/conversations/{conversation}/export/?format={fmt}"
            timings[size] = self.sequential(f"export_{size}", loads, headers)
        big, little = timings[max(EXPORT_SIZES)], timings[min(EXPORT_SIZES)]
        results = [
            Result(
                "export",
                big["json"]["p50_ms"],
                big["raw"]["p50_ms"],
                "ms",
                Target("<=", 1.5),
                _errors_note(big["json"]) or _samples_note(big["json"], "10 000 turns, JSON"),
            ),
            Result("export_1k", little["json"]["p50_ms"], little["raw"]["p50_ms"], "ms"),
        ]
        for fmt in EXPORT_FORMATS:
            note = _errors_note(big[fmt]) or _samples_note(big[fmt], "")
            results.append(Result(f"export_{fmt}", big[fmt]["p50_ms"], big["raw"]["p50_ms"], "ms", note=note))
        return results + self.export_memory(headers, timings)

    def export_memory(self, headers: dict, timings: dict) -> list[Result]:
        """Peak memory of the JSON export at each size, measured inside the worker."""
        memory, skipped = {}, []
        for probe in ("tracemalloc", "rss"):
            for size in EXPORT_SIZES:
                if not timings[size]["json"]["p50_ms"] <= SLOW_EXPORT_MS:  # also when it failed (NaN)
                    skipped.append(f"{probe} at {size}")
                    continue
                response = self.http.get(
                    f"/bench/export-memory/{self.fx.export_conversations[size]}/",
                    params={"format": "json", "probe": probe},
                    headers=headers,
                    timeout=300,
                )
                response.raise_for_status()
                memory[f"{probe}_{size}"] = response.json()
        self.details["export_memory"] = memory
        peak = {key: value["peak_bytes"] / MIB for key, value in memory.items()}
        small, large = EXPORT_SIZES
        note = f"skipped (export too slow): {', '.join(skipped)}" if skipped else ""
        return [
            Result(
                "export_memory",
                peak.get(f"tracemalloc_{large}"),
                peak.get(f"tracemalloc_{small}"),
                "MiB",
                Target("<=", 2.0),
                note
                or "peak Python allocations while exporting 10k turns vs 1k (flat: 10x the turns, < 2x the memory)",
            ),
            Result(
                "export_memory_rss",
                peak.get(f"rss_{large}"),
                peak.get(f"rss_{small}"),
                "MiB",
                note=note
                or "growth of the worker's resident set during the export, 10k vs 1k (sees C buffers too)",
            ),
        ]

    def sequential(
        self, name: str, loads: dict[str, str], headers: dict, *, repeated=("raw", "json")
    ) -> dict:
        """Latency of one request after another (no queueing), alternating between the loads.

        A first request of each load warms the worker; a load slower than SLOW_EXPORT_MS keeps that
        single sample instead of being repeated, so a pathological export cannot stall the run.
        """
        groups = {
            load: [
                {
                    "name": "main",
                    "connections": 1,
                    "requests": [{"method": "GET", "path": path, "headers": headers}],
                    "timeout": SLOW_EXPORT_MS / 1000 * 4,
                }
            ]
            for load, path in loads.items()
        }
        first = {
            run["name"]: run["groups"]["main"]
            for run in self.load(
                [{"name": load, "count": 1, "groups": load_groups} for load, load_groups in groups.items()]
            )
        }
        fast = [
            load
            for load in groups
            if not first[load]["errors"] and 1000 * first[load]["seconds"] <= SLOW_EXPORT_MS
        ]
        # The baseline and the target figure alternate every round; the other formats (reported,
        # no target) are measured in the first round only, to keep the run short.
        phases = [
            {"name": load, "count": self.plan.export_repeats, "groups": groups[load]}
            for round_ in range(self.plan.rounds)
            for load in fast
            if round_ == 0 or load in repeated
        ]
        runs = self.load(phases) if phases else []
        merged = {}
        for load in groups:
            chosen = [run["groups"]["main"] for run in runs if run["name"] == load] or [first[load]]
            merged[load] = _merge_runs(chosen)
        self.details[name] = merged
        return merged

    def history(self) -> list[Result]:
        from bench.seed import csrf_headers

        session = csrf_headers(self.fx.history_cookie)
        token = self.token(self.fx.history_token)
        broken = self.check("GET", "/conversations/", expect=(200,), headers=session) or self.check(
            "GET", "/api/conversations/?page=1", expect=(200,), headers=token
        )
        results = []
        counts = self.fx.query_counts
        small, large = min(HISTORY_SIZES), max(HISTORY_SIZES)
        for name in ("history_page", "history_api"):
            results.append(
                Result(
                    f"{name}_queries",
                    counts[name][large],
                    counts[name][small],
                    "queries",
                    Target("<=", 1.0),
                    f"queries with {large} conversations vs {small}",
                )
            )
        if broken:
            return [*_missing(["history_page", "history_api"], broken), *results]

        def group(path, headers):
            return [
                {
                    "name": "main",
                    "connections": HISTORY_CONNECTIONS,
                    "requests": [{"method": "GET", "path": path, "headers": headers}],
                }
            ]

        runs = self.alternate(
            "history",
            {
                "noop_session": group("/bench/noop/", session),
                "page": group("/conversations/", session),
                "noop_token": group("/bench/noop/", token),
                "api": group("/api/conversations/?page=1", token),
            },
        )
        return [
            Result(
                "history_page",
                runs["page"]["main"]["rps"],
                runs["noop_session"]["main"]["rps"],
                "req/s",
                Target(">=", 0.5),
                note=_errors_note(runs["page"]["main"])
                or f"{large} conversations, {HISTORY_CONNECTIONS} connections",
            ),
            Result(
                "history_api",
                runs["api"]["main"]["rps"],
                runs["noop_token"]["main"]["rps"],
                "req/s",
                note=_errors_note(runs["api"]["main"]) or "first page",
            ),
            *results,
        ]

    def upstream_hang(self) -> list[Result]:
        from bench.seed import csrf_headers

        broken = self.check_turn_post("hang")
        if broken:
            return _missing(["upstream_hang", "upstream_hang_p99"], broken)
        httpx.post(f"{self.upstream}/_bench/hang", json={"hang": True}, timeout=5).raise_for_status()
        hang_requests = []
        for i in range(HANG_CONNECTIONS):
            if i % 2:
                hang_requests.append(
                    {
                        "method": "POST",
                        "path": "/realtime/session/",
                        "headers": csrf_headers(self.fx.mint_cookies[i % len(self.fx.mint_cookies)]),
                        "json": {},
                    }
                )
            else:
                hang_requests.append(
                    {
                        "method": "GET",
                        "path": f"/api/weather/?location=Atlantis{i}",
                        "headers": self.token(self.fx.history_token),
                    }
                )
        ingest = {"name": "main", "connections": LOAD_CONNECTIONS, "requests": self.turn_requests()}
        hang = {
            "name": "hang",
            "connections": HANG_CONNECTIONS,
            "requests": hang_requests,
            "background": True,
            "expect_errors": True,
        }
        try:
            runs = self.alternate(
                "upstream_hang",
                {"normal": [ingest], "hang": [ingest, hang]},
                # Threads still wait on the dead upstream after the load stops: let them time out.
                pause_after={"hang": self.upstream_timeout + 0.5},
            )
        finally:
            httpx.post(f"{self.upstream}/_bench/hang", json={"hang": False}, timeout=5)
        normal, ours = runs["normal"]["main"], runs["hang"]["main"]
        hung = runs["hang"]["hang"]
        answered = f", answered {hung['statuses']}" if hung["statuses"] else ""
        note = _errors_note(ours) or (
            f"{HANG_CONNECTIONS} clients kept calling weather and mint on a silent upstream{answered}; "
            f"UPSTREAM_TIMEOUT={self.upstream_timeout:g}s"
        )
        return [
            Result("upstream_hang", ours["rps"], normal["rps"], "req/s", Target(">=", 0.7), note),
            Result("upstream_hang_p99", ours["p99_ms"], normal["p99_ms"], "ms", Target("<=", 250, on="ours")),
        ]


def _merge_runs(runs: list[dict]) -> dict:
    summary = merge(runs)
    summary["statuses"] = _add_counts(run["statuses"] for run in runs)
    samples = {}
    for run in runs:
        samples.update(run["error_samples"])
    if samples:
        summary["error_samples"] = samples
    return summary


def _add_counts(dicts) -> dict:
    total: dict[str, int] = {}
    for counts in dicts:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total


def _errors_note(summary: dict) -> str:
    if not summary.get("errors"):
        return ""
    return (
        f"{summary['errors']} failed requests: {summary.get('statuses')} {summary.get('error_samples', '')}"[
            :300
        ]
    )


def _samples_note(summary: dict, text: str) -> str:
    if summary["requests"] == 1:
        return f"{text}; one sample only: the export took {summary['p50_ms'] / 1000:.1f} s".lstrip("; ")
    return text


def _missing(names: list[str], note: str) -> list[Result]:
    return [Result(name, None, None, "", Target("<=", 0), note) for name in names]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="shorter phases and fewer rounds (about half the time)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voiceapp_bench"),
        help="PostgreSQL database to drop, create and fill (default: %(default)s)",
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/2"),
        help="Redis database for the cache; flushed (default: %(default)s)",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="CONN_MAX_AGE of the app (default: %(default)s; 0 opens a database connection per request)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the workers with py-spy during each scenario: .bench/profile-<scenario>.txt",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--only",
        nargs="*",
        choices=[*WEB_SCENARIOS, "voice"],
        help="run these scenarios only (live_session: a second server with VOICE_API=live; "
        "voice: the offline section, Chromium against the emulator)",
    )
    parser.add_argument(
        "--voice-runs", type=int, default=10, help="spoken questions in the offline section (default: 10)"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # `timeout` or Ctrl-C: still run the finally blocks that stop gunicorn and the fake upstream.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = PLANS["quick" if args.quick else "full"]
    OUT.mkdir(exist_ok=True)
    started = time.monotonic()
    # The offline section first, while no server of ours competes for the CPU.
    offline = offline_voice(args.voice_runs) if not args.only or "voice" in args.only else []
    if args.only and set(args.only) == {"voice"}:
        print(format_table(offline))
        (OUT / "voice.json").write_text(json.dumps(to_json(offline), indent=2) + "\n")
        return
    upstream_port, app_port = free_port(), free_port()
    upstream = f"http://127.0.0.1:{upstream_port}"
    base_url = f"http://127.0.0.1:{app_port}"
    static_root = tempfile.mkdtemp(prefix="voiceapp-bench-static-")
    env = bench_env(
        database_url=args.database_url,
        cache_url=args.cache_url,
        upstream=upstream,
        static_root=static_root,
        conn_max_age=args.conn_max_age,
    )
    os.environ.update(env)

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connections

    from bench import seed

    log(f"fresh database {args.database_url.rsplit('/', 1)[-1]}: migrate, collectstatic, seed")
    seed.recreate_database(args.database_url)
    seed.prepare()
    cache.clear()
    fixtures = seed.seed(export_sizes=EXPORT_SIZES, history_sizes=HISTORY_SIZES)
    # Planner statistics, as autovacuum would gather them on a deployment: without them PostgreSQL
    # reads and sorts all of a user's conversations instead of walking the (owner, created) index.
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    connections.close_all()
    log(f"seeded in {time.monotonic() - started:.0f}s; starting the fake upstream and gunicorn")

    child_env = {**os.environ, **env}
    upstream_cmd = [
        sys.executable,
        "-m",
        "bench.upstream",
        "--port",
        str(upstream_port),
        "--delay",
        str(UPSTREAM_DELAY),
    ]

    def gunicorn_cmd(port: int) -> list[str]:
        return [
            str(Path(sys.executable).parent / "gunicorn"),
            "voiceapp.wsgi",
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "30",
            "--bind",
            f"127.0.0.1:{port}",
        ]

    results: list[Result] = []
    bench = None
    with (
        process(
            upstream_cmd, env=child_env, logfile=OUT / "upstream.log", ready=lambda: _listening(upstream_port)
        ),
        process(
            gunicorn_cmd(app_port),
            env=child_env,
            logfile=OUT / "gunicorn.log",
            ready=lambda: answers(f"{base_url}/healthz"),
        ) as gunicorn,
    ):
        bench = Bench(
            base_url=base_url,
            upstream=upstream,
            fixtures=fixtures,
            plan=plan,
            upstream_timeout=settings.UPSTREAM_TIMEOUT,
        )
        for scenario in [s for s in args.only or WEB_SCENARIOS if s != "voice"]:
            log(f"{scenario} ...")
            with contextlib.ExitStack() as stack:
                server = gunicorn
                if scenario == "live_session":
                    server = stack.enter_context(live_server(gunicorn_cmd, child_env))
                    bench.live_base_url = server.base_url
                if args.profile:
                    stack.enter_context(profiling(server.pid, OUT, scenario))
                results += getattr(bench, scenario)()
    elapsed = time.monotonic() - started
    results += offline
    table = format_table(results)
    print(table)
    (OUT / "latest.json").write_text(json.dumps(to_json(results), indent=2) + "\n")
    details = {
        "plan": plan.__dict__,
        "elapsed_seconds": round(elapsed, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_after": os.getloadavg(),
            "python": platform.python_version(),
        },
        "server": {
            "workers": args.workers,
            "threads": args.threads,
            "upstream_timeout": settings.UPSTREAM_TIMEOUT,
            "conn_max_age": args.conn_max_age,
        },
        "query_counts": fixtures.query_counts,
        "runs": bench.details if bench else {},
    }
    (OUT / "details.json").write_text(json.dumps(details, indent=2, default=str) + "\n")
    print(f"\nwrote .bench/latest.json and .bench/details.json in {elapsed:.0f}s")
    if not all_met(results):
        print("some targets were missed (see docs/performance.md)")
        sys.exit(1)


@contextlib.contextmanager
def live_server(gunicorn_cmd, env: dict):
    """A second server of the same app and database with VOICE_API=live, for the live_session row
    (one VOICE_API per deployment: the other session endpoint answers 409)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with process(
        gunicorn_cmd(port),
        env={**env, "VOICE_API": "live"},
        logfile=OUT / "gunicorn-live.log",
        ready=lambda: answers(f"{base_url}/healthz"),
    ) as server:
        server.base_url = base_url
        yield server


def offline_voice(runs: int) -> list[Result]:
    """Latency of a spoken question against the local emulator (bench/voice.py)."""
    from bench import voice

    log(f"voice (offline): {runs} spoken questions in Chromium against the emulator ...")
    try:
        return voice.measure(runs)
    except Exception as exc:  # Chromium or espeak-ng missing, a run that timed out, ...
        log(f"voice: failed: {exc}")
        return _missing(["voice_speech_end_to_audio"], f"the offline section failed: {exc}")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
