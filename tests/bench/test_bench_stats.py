"""The pure part of `make bench`: percentiles, summaries, ratios, targets, table and JSON shape."""

import json
import math

import pytest

from bench.load import turn_body
from bench.stats import Result, Target, all_met, format_table, merge, percentile, ratio, summarize, to_json


def test_percentile_interpolates_between_ranks_like_numpy():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)


def test_percentile_of_one_value_is_that_value():
    assert percentile([7.0], 99) == 7.0


def test_percentile_refuses_no_values_and_out_of_range_ranks():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summarize_reports_throughput_and_latency_in_milliseconds():
    summary = summarize([0.010] * 99 + [0.110], seconds=2.0, errors=1)
    assert summary["requests"] == 100
    assert summary["errors"] == 1
    assert summary["rps"] == 50.0
    assert summary["p50_ms"] == pytest.approx(10.0)
    assert summary["p99_ms"] == pytest.approx(11.0)
    assert summary["mean_ms"] == pytest.approx(11.0)


def test_summarize_of_no_requests_has_no_latency():
    summary = summarize([], seconds=1.0)
    assert summary["rps"] == 0.0
    assert math.isnan(summary["p99_ms"])


def test_merge_pools_the_latencies_and_the_time_of_alternating_rounds():
    runs = [
        {"latencies": [0.01, 0.02], "seconds": 1.0, "errors": 0},
        {"latencies": [0.03], "seconds": 2.0, "errors": 2},
    ]
    merged = merge(runs)
    assert merged["requests"] == 3
    assert merged["rps"] == 1.0
    assert merged["errors"] == 2
    assert merged["p50_ms"] == pytest.approx(20.0)


def test_ratio_is_ours_over_baseline_and_none_without_a_baseline():
    assert ratio(7.0, 10.0) == 0.7
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 1.0) is None
    assert ratio(math.nan, 1.0) is None


def test_targets_apply_to_the_ratio_or_to_our_own_figure():
    assert Result("ingest", 70.0, 100.0, "req/s", Target(">=", 0.7)).met is True
    assert Result("ingest", 69.0, 100.0, "req/s", Target(">=", 0.7)).met is False
    assert Result("p99", 260.0, 10.0, "ms", Target("<=", 250, on="ours")).met is False
    assert Result("p99", 240.0, 10.0, "ms", Target("<=", 250, on="ours")).met is True
    assert Result("history", 5.0, 100.0, "req/s").met is None


def test_a_missing_figure_counts_as_a_missed_target():
    results = [
        Result("ok", 1.0, 1.0, "ms", Target("<=", 1.5)),
        Result("gone", None, None, "", Target("<=", 0)),
    ]
    assert results[1].met is None
    assert all_met(results) is False
    assert all_met(results[:1]) is True


def test_target_refuses_an_unknown_operator():
    with pytest.raises(ValueError):
        Target("<", 1.0)


def test_json_has_ours_baseline_ratio_and_unit_per_name_and_serialises():
    results = [
        Result("ingest", 80.0, 100.0, "req/s", Target(">=", 0.7)),
        Result("history_page", 9.0, 114.0, "req/s", note="1000 conversations"),
        Result("export", None, 12.0, "ms", Target("<=", 1.5)),
    ]
    data = json.loads(json.dumps(to_json(results)))
    assert list(data) == ["ingest", "history_page", "export"]
    assert data["ingest"] == {
        "ours": 80.0,
        "baseline": 100.0,
        "ratio": 0.8,
        "unit": "req/s",
        "target": "ratio >= 0.7",
        "met": True,
    }
    assert data["history_page"]["target"] is None
    assert data["history_page"]["note"] == "1000 conversations"
    assert data["export"]["ours"] is None
    assert data["export"]["ratio"] is None


def test_table_has_a_row_per_result_and_says_which_targets_were_missed():
    table = format_table(
        [
            Result("ingest", 80.0, 100.0, "req/s", Target(">=", 0.7)),
            Result("export", 30.0, 10.0, "ms", Target("<=", 1.5), note="slow"),
        ]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["name", "ours", "baseline", "ratio", "unit", "target", "met?"]
    assert "0.80x" in lines[2] and lines[2].rstrip().endswith("yes")
    assert "3.00x" in lines[3] and lines[3].rstrip().endswith("NO")
    assert "export: slow" in table


def test_turn_bodies_never_repeat_an_item_id_and_chain_to_the_previous_one():
    bodies = [turn_body(prefix="p", connection=c, seq=s) for c in range(3) for s in range(50)]
    assert len({body["item_id"] for body in bodies}) == len(bodies)
    second = turn_body(prefix="p", connection=1, seq=1)
    assert second["previous_item_id"] == turn_body(prefix="p", connection=1, seq=0)["item_id"]
    assert {body["role"] for body in bodies} == {"user", "assistant"}


def test_profile_summary_leaves_idle_threads_out_and_lists_project_frames_first():
    from bench.profile import read_collapsed, summarize

    stacks = read_collapsed(
        "run (gunicorn/arbiter.py:1);EpollSelector.select (selectors.py:468) 50\n"
        "handle (gunicorn/gthread.py:9);post (/work/main/conversations/api.py:169);execute (psycopg/cursor.py:1) 30\n"
        "handle (gunicorn/gthread.py:9);get (bench/endpoints.py:42) 10\n"
    )
    summary = summarize(stacks)
    assert summary.startswith("40 busy samples")
    project = summary.split("project frames, inclusive:")[1].split("all frames")[0]
    assert "75.0%  post (/work/main/conversations/api.py:169)" in project
    assert "selectors" not in summary
