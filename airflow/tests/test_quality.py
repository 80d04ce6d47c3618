"""The data-quality summary: latency quantiles from the processor's Prometheus histogram
(as sluice renders it, src/web/metrics.cc) over the window between two scrapes, and the
summary built from a verify report and the batch's manifest."""

from __future__ import annotations

import json
import math

import pytest
from sluice_airflow import metrics
from sluice_airflow.manifest import parse_manifest
from sluice_airflow.quality import format_summary, summarize
from sluice_airflow.verify import parse_report

from tests.conftest import DATA

BOUNDS = [0.005, 0.01, 0.025, 0.1, 1]


def exposition(counts: list[int]) -> str:
    """A histogram the way sluice's /metrics prints one (cumulative buckets, then +Inf)."""
    lines = [
        "# HELP sluice_process_end_to_end_seconds Kafka record timestamp to Cassandra ack",
        "# TYPE sluice_process_end_to_end_seconds histogram",
    ]
    total = 0
    for bound, n in zip(BOUNDS, counts, strict=False):
        total += n
        lines.append(f'sluice_process_end_to_end_seconds_bucket{{le="{bound:g}"}} {total}')
    total += counts[-1] if len(counts) > len(BOUNDS) else 0
    lines.append(f'sluice_process_end_to_end_seconds_bucket{{le="+Inf"}} {total}')
    lines.append(f"sluice_process_end_to_end_seconds_count {total}")
    lines.append('sluice_process_invalid_total{rule="id.uuid"} 3')
    return "\n".join(lines) + "\n"


def test_parse_and_quantiles() -> None:
    buckets = metrics.parse_buckets(exposition([0, 50, 40, 9, 1, 0]))
    assert list(buckets) == [*BOUNDS, math.inf]
    assert metrics.count(buckets) == 100
    assert metrics.quantile(buckets, 0.5) == pytest.approx(0.01)
    assert metrics.quantile(buckets, 0.99) == pytest.approx(0.1)
    assert metrics.quantile({}, 0.5) is None


def test_window_between_two_scrapes() -> None:
    before = metrics.parse_buckets(exposition([100, 0, 0, 0, 0, 0]))
    after = metrics.parse_buckets(exposition([100, 0, 10, 0, 0, 0]))
    window = metrics.difference(after, before)
    assert metrics.count(window) == 10
    assert 0.01 < (metrics.quantile(window, 0.5) or 0) <= 0.025
    # a processor restarted in between: the later scrape alone
    assert metrics.difference(before, after) == before
    assert metrics.decode(json.loads(json.dumps(metrics.encode(window)))) == window


def test_summary_of_a_verified_batch() -> None:
    report = parse_report((DATA / "verify_ok.json").read_text())
    manifest = parse_manifest(
        {
            "run_id": "ab",
            "topic": "users.raw",
            "seed": 1729,
            "start_index": 0,
            "count": 3300,
            "acknowledged": 3300,
            "good": 3135,
            "bad_by_kind": {"bad_email": 12, "bad_uuid": 14, "bad_postcode": 139},
            "partitions": {"0": {"first_offset": 100, "last_offset": 1770}},
        },
        "/m.json",
    )
    batch = {
        "key": "20261203T101000Z",
        "reused": False,
        "produce_seconds": 1.5,
        "finished_at": 100.0,
    }
    commit = {"status": "committed", "committed_at": 102.25}
    window = metrics.parse_buckets(exposition([10, 80, 10, 0, 0, 0]))
    summary = summarize(report, manifest, batch, commit, window)
    assert summary["sent"] == 3300 and summary["injected_defects"] == 165
    assert summary["stored"] == 3180 and summary["dead_lettered"] == 170
    assert summary["dead_by_rule"] == {"email.format": 12, "id.uuid": 14, "postcode.format": 144}
    assert summary["latency"]["produced_to_committed_s"] == 2.25
    assert summary["latency"]["processor_records"] == 100
    assert json.loads(json.dumps(summary)) == summary  # an XCom and an asset event's extra
    text = format_summary(summary)
    assert "dead-lettered 170" in text and "postcode.format" in text
