"""The pure part of the benchmark: percentiles, summaries, ratios against a baseline, table and JSON."""

import math
from dataclasses import dataclass


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks, as numpy does."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(latencies: list[float], *, seconds: float, errors: int = 0) -> dict:
    """Throughput and latency of one load run: `latencies` in seconds, measured over `seconds`."""
    summary = {"requests": len(latencies), "errors": errors, "seconds": round(seconds, 3)}
    summary["rps"] = len(latencies) / seconds if seconds > 0 else 0.0
    if latencies:
        summary["mean_ms"] = 1000 * sum(latencies) / len(latencies)
        summary["p50_ms"] = 1000 * percentile(latencies, 50)
        summary["p99_ms"] = 1000 * percentile(latencies, 99)
    else:
        summary["mean_ms"] = summary["p50_ms"] = summary["p99_ms"] = math.nan
    return summary


def merge(runs: list[dict]) -> dict:
    """One summary of several runs of the same load (alternating rounds): all latencies, all time."""
    latencies = [latency for run in runs for latency in run["latencies"]]
    return summarize(
        latencies,
        seconds=sum(run["seconds"] for run in runs),
        errors=sum(run["errors"] for run in runs),
    )


def ratio(ours: float | None, baseline: float | None) -> float | None:
    """ours / baseline, or None when either is missing or the baseline is zero."""
    if ours is None or baseline is None or baseline == 0 or math.isnan(ours) or math.isnan(baseline):
        return None
    return ours / baseline


@dataclass(frozen=True)
class Target:
    """A goal on the ratio (`on="ratio"`) or on our own figure (`on="ours"`): `<=` or `>=` a value."""

    op: str
    value: float
    on: str = "ratio"

    def __post_init__(self):
        if self.op not in ("<=", ">=") or self.on not in ("ratio", "ours"):
            raise ValueError(f"bad target {self.on} {self.op} {self.value}")

    def met(self, result: "Result") -> bool | None:
        figure = result.ratio if self.on == "ratio" else result.ours
        if figure is None or math.isnan(figure):
            return None
        return figure <= self.value if self.op == "<=" else figure >= self.value

    def __str__(self):
        if self.on == "ratio":
            return f"ratio {self.op} {self.value:g}"
        return f"ours {self.op} {self.value:g}"


@dataclass(frozen=True)
class Result:
    """One line of the table: our figure, the baseline's, their ratio, and the goal if there is one."""

    name: str
    ours: float | None
    baseline: float | None
    unit: str
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return ratio(self.ours, self.baseline)

    @property
    def met(self) -> bool | None:
        return self.target.met(self) if self.target else None


def to_json(results: list[Result]) -> dict:
    """{"<name>": {"ours", "baseline", "ratio", "unit", "target", "met"}} for .bench/latest.json."""
    return {
        result.name: {
            "ours": _round(result.ours),
            "baseline": _round(result.baseline),
            "ratio": _round(result.ratio),
            "unit": result.unit,
            "target": str(result.target) if result.target else None,
            "met": result.met,
            **({"note": result.note} if result.note else {}),
        }
        for result in results
    }


def all_met(results: list[Result]) -> bool:
    """True when every result that has a target met it (a missing figure is a miss)."""
    return all(result.met for result in results if result.target)


def format_table(results: list[Result]) -> str:
    header = ("name", "ours", "baseline", "ratio", "unit", "target", "met?")
    rows = [
        (
            result.name,
            _figure(result.ours),
            _figure(result.baseline),
            _figure(result.ratio, ratio=True),
            result.unit,
            str(result.target) if result.target else "report",
            {True: "yes", False: "NO", None: "-" if not result.target else "n/a"}[result.met],
        )
        for result in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"  {result.name}: {result.note}" for result in results if result.note]
    return "\n".join([*lines, *(["", "notes:", *notes] if notes else [])])


def _figure(value: float | None, *, ratio: bool = False) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if ratio:
        return f"{value:.2f}x"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def _round(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, 4)
