"""`make bench-scale`: the read paths at 10k and 1M turns of one user, and how they grow.

Each size lives in its own database (`<name>_10k`, `<name>_1m`), seeded with COPY by
bench/scale_seed.py and reused by later runs (`--fresh` seeds again). Requests go through the app's
own URLs in-process (Django's test client, DEBUG off): each figure is the median of 15 warm requests,
taken in 3 rounds of 5 with the sizes taking turns, so that a swing in the machine's load falls on
both sizes alike. The table shows both sizes, the growth ratio and, for the rows that carry issue
17's target for user search (at 1M at most 1.5x the 10k time and at most 100 ms: the fixed-count and
the common word), whether it is met; .bench/scale.json keeps the figures.

The whole-account export (`GET /api/export/`) is timed once per size (at 1M it takes a while):
turns per second and the growth of the process's resident set while it streams.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"10k": 10_000, "1m": 1_000_000}
RUNS = 5  # warm requests a round
ROUNDS = 3  # rounds a path, the sizes taking turns: each figure is the median of ROUNDS * RUNS


# Issue 17's goal for user search: at 1M turns, at most 1.5× the time at 10k and at most 100 ms. It
# is judged on the searches whose result has the same shape at both sizes (a full first page): the
# fixed-count word and the common word. The rare word (fixed frequency: 1 result row at 10k, a full
# page at 1M) and the other paths are reported only.
MAX_GROWTH, MAX_MS = 1.5, 100.0
TARGETED = (
    "search page, fixed-count word",
    "search page, common word",
    "API search, fixed-count word",
    "API search, common word",
)


def paths(detail: str) -> dict[str, tuple[str, str]]:
    from bench.scale_seed import COMMON_WORD, FIXED_WORD, HEAVY_USER, RARE_WORD

    staff = "scale-staff"
    return {
        "history page": (HEAVY_USER, "/conversations/"),
        "API list": (HEAVY_USER, "/api/conversations/"),
        "detail (2,000 turns)": (HEAVY_USER, f"/conversations/{detail}/"),
        "search page, fixed-count word": (HEAVY_USER, f"/conversations/?q={FIXED_WORD}"),
        "search page, rare word": (HEAVY_USER, f"/conversations/?q={RARE_WORD}"),
        "search page, common word": (HEAVY_USER, f"/conversations/?q={COMMON_WORD}"),
        "API search, fixed-count word": (HEAVY_USER, f"/api/conversations/?search={FIXED_WORD}"),
        "API search, rare word": (HEAVY_USER, f"/api/conversations/?search={RARE_WORD}"),
        "API search, common word": (HEAVY_USER, f"/api/conversations/?search={COMMON_WORD}"),
        "admin list": (staff, "/admin/conversations/conversation/"),
        "admin search, rare word": (staff, f"/admin/conversations/conversation/?q={RARE_WORD}"),
        "admin search, common word": (staff, f"/admin/conversations/conversation/?q={COMMON_WORD}"),
    }


def use(database_url: str) -> None:
    """Point the app's connection at the database of `database_url` (reconnects on the next query)."""
    from django.conf import settings
    from django.db import connections

    settings.DATABASES["default"]["NAME"] = database_url.rsplit("/", 1)[-1]
    connections.close_all()


def prepare(database_url: str, size: int, fresh: bool):
    """Seed (or reuse) the database for `size`; its heavy user and the pk of the detail conversation."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import scale_seed, seed
    from conversations.models import Conversation

    use(database_url)
    version = _seed_version(database_url)
    if fresh or version != scale_seed.SEED_VERSION:
        if not fresh and version is not False:
            print(
                f"[scale] {database_url.rsplit('/', 1)[-1]}: seeded as {version or 'an older seed'!r}, "
                f"not {scale_seed.SEED_VERSION!r}; seeding again",
                file=sys.stderr,
                flush=True,
            )
        seed.recreate_database(database_url)
        call_command("migrate", interactive=False, verbosity=0)
        scale_seed.seed_base()
    call_command("migrate", interactive=False, verbosity=0)
    started = time.monotonic()
    scale_seed.grow_heavy_user(size)
    scale_seed.mark_seeded()
    print(f"[scale] {size} turns ready ({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)
    heavy = get_user_model().objects.get(username=scale_seed.HEAVY_USER)
    return heavy, Conversation.objects.filter(owner=heavy).order_by("created_at").first().pk


def time_paths(databases: dict[str, str], details: dict) -> dict[str, dict[str, float]]:
    """{size label: {path name: median ms}}, the sizes taking turns: for each path, ROUNDS rounds of
    RUNS warm requests at each size in turn, so that a change in the machine's load between two
    moments falls on both sizes rather than on the growth."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    clients: dict = {}
    samples: dict = {label: {} for label in databases}
    for name in paths("-"):
        for _ in range(ROUNDS):
            for label, database_url in databases.items():
                username, path = paths(details[label])[name]
                use(database_url)
                if (label, username) not in clients:
                    client = Client(HTTP_HOST="127.0.0.1")
                    client.force_login(get_user_model().objects.get(username=username))
                    clients[label, username] = client
                client = clients[label, username]
                client.get(path)  # warm (and connect)
                for _ in range(RUNS):
                    began = time.perf_counter()
                    response = client.get(path)
                    samples[label].setdefault(name, []).append(1000 * (time.perf_counter() - began))
                    if response.status_code != 200:
                        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return {
        label: {name: statistics.median(t) for name, t in by_name.items()}
        for label, by_name in samples.items()
    }


EXPORT_FIGURES = {
    "account export, turns/s": "turns/s",
    "account export, turns/CPU-s": "turns per CPU second (app + database)",
    "account export, peak MiB": "MiB",
}


def measure_account_export(user) -> dict[str, float]:
    """Stream the whole-account export once: its rate in turns/s and the growth of the resident set."""
    from django.db import connection
    from django.test import Client

    from bench.endpoints import RssSampler
    from conversations.models import Turn

    turns = Turn.objects.filter(conversation__owner=user).count()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    client.get("/api/conversations/")  # warm: the first request imports what the app loads lazily
    backends = _database_backends()
    with connection.cursor() as cursor:
        # Parallel workers are processes of their own whose CPU time /proc of the backend does not
        # show: without them, all of the database's work is counted (and a batch of a few thousand
        # turns does not gain from them on two cores).
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    with RssSampler() as sampler:
        began, cpu = time.perf_counter(), time.process_time() + _cpu_seconds(backends)
        response = client.get("/api/export/")
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - began
        cpu = time.process_time() + _cpu_seconds(backends) - cpu
    with connection.cursor() as cursor:
        cursor.execute("RESET max_parallel_workers_per_gather")
    print(
        f"[scale] account export: {turns} turns, {size / 2**20:.0f} MiB in {seconds:.1f}s, CPU {cpu:.1f}s",
        file=sys.stderr,
    )
    return {
        "account export, turns/s": turns / seconds,
        "account export, turns/CPU-s": turns / cpu,
        "account export, peak MiB": (sampler.peak - sampler.before) / 2**20,
    }


def _database_backends() -> list[int]:
    """The process id of this process's PostgreSQL backend (the server runs on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return [cursor.fetchone()[0]]


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by the processes `pids` (user + system), from /proc.

    On a machine shared with other work, wall time says more about the neighbours than about the
    export; the CPU it costs the app and the database does not."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def _seed_version(database_url: str) -> str | None | bool:
    """The seed mark of the database (bench/scale_seed.py's SEED_VERSION when its seeding finished),
    None when it exists without one, False when it does not exist."""
    import psycopg

    name = database_url.rsplit("/", 1)[-1]
    admin = database_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return False if row is None else row[0]


def verdict(name: str, row: dict) -> tuple[str, str]:
    """The row's target and whether it is met ("yes", "NO", or "-" for a row that only reports)."""
    if name not in TARGETED:
        return "report", "-"
    target = f"growth <= {MAX_GROWTH}, 1m <= {MAX_MS:.0f} ms"
    if row.get("growth") is None or "1m" not in row:
        return target, "-"
    return target, "yes" if row["growth"] <= MAX_GROWTH and row["1m"] <= MAX_MS else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voiceapp_bench"),
        help="base name; the sizes use <name>_10k and <name>_1m (created when missing)",
    )
    parser.add_argument("--fresh", action="store_true", help="drop and seed both databases again")
    parser.add_argument("--only", choices=list(SIZES), nargs="*", help="these sizes only")
    parser.add_argument("--export-only", action="store_true", help="the whole-account export only")
    args = parser.parse_args()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "voiceapp.settings",
            "DEBUG": "false",
            "SECRET_KEY": "scale-" + os.urandom(16).hex(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"{args.database_url}_10k",
            "CACHE_URL": "locmemcache://scale",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections
    from django.test import override_settings

    # Pages name static files; no collectstatic here, so plain (unhashed) names. override_settings
    # (not an assignment) also resets the storages that django.setup() already created.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()
    sizes = {label: size for label, size in SIZES.items() if not args.only or label in args.only}
    databases = {label: f"{args.database_url}_{label}" for label in sizes}
    prepared = {label: prepare(databases[label], size, args.fresh) for label, size in sizes.items()}
    figures = (
        {label: {} for label in sizes}
        if args.export_only
        else time_paths(databases, {label: detail for label, (_, detail) in prepared.items()})
    )
    for label, (heavy, _) in prepared.items():
        use(databases[label])
        figures[label].update(measure_account_export(heavy))
    connections.close_all()
    labels = list(figures)
    print(
        f"{'path':30} "
        + " ".join(f"{label + ' ms':>10}" for label in labels)
        + f"   {'growth':>7}   {'target':31} met?"
    )
    table = {}
    for name in {} if args.export_only else next(iter(figures.values())):
        if name in EXPORT_FIGURES:
            continue
        row = {label: round(figures[label][name], 1) for label in labels}
        growth = row[labels[-1]] / row[labels[0]] if len(labels) > 1 and row[labels[0]] else None
        table[name] = {**row, "growth": round(growth, 2) if growth else None}
        target, met = verdict(name, table[name])
        table[name].update(target=target, met={"yes": True, "NO": False}.get(met))
        cells = " ".join(f"{row[label]:>10.1f}" for label in labels)
        print(f"{name:30} {cells}   {f'{growth:.2f}x' if growth else '-':>7}   {target:31} {met}")
    print(f"\n{'whole-account export':30} " + " ".join(f"{label:>10}" for label in labels) + "   growth")
    for name, unit in EXPORT_FIGURES.items():
        row = {label: round(figures[label][name], 1) for label in labels}
        growth = row[labels[-1]] / row[labels[0]] if len(labels) > 1 and row[labels[0]] else None
        table[name] = {**row, "unit": unit, "growth": round(growth, 2) if growth else None}
        cells = " ".join(f"{row[label]:>10.1f}" for label in labels)
        print(f"{name:30} {cells}   {f'{growth:.2f}x' if growth else '-':>7}")
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps(table, indent=2) + "\n")
    print("\nwrote .bench/scale.json")


if __name__ == "__main__":
    main()
