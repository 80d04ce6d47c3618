"""The data-quality summary of a verified batch: what was sent (and with which injected
defects), where it went (stored, superseded, dead-lettered by rule) and how long it took.
The same small JSON-able dict goes to the task log, the XCom and the asset event's extra.
Counts come from `sluice verify` over the batch's offset spans, which may also hold records
of other producers (the stack's own live producer): `records_in_spans` >= `sent`."""

from __future__ import annotations

from typing import Any

from sluice_airflow.manifest import Manifest
from sluice_airflow.metrics import Buckets, count, quantile
from sluice_airflow.verify import VerifyReport


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def latency(
    batch: dict[str, Any], commit: dict[str, Any] | None, window: Buckets | None
) -> dict[str, Any]:
    """Timings of the batch and the processor's end-to-end latency over its window."""
    out: dict[str, Any] = {"produce_s": batch.get("produce_seconds")}
    if commit and not batch.get("reused") and "finished_at" in batch:
        waited = float(commit["committed_at"]) - float(batch["finished_at"])
        out["produced_to_committed_s"] = round(max(0.0, waited), 3)
    if window:
        out["processor_records"] = count(window)
        out["processor_p50_ms"] = _ms(quantile(window, 0.5))
        out["processor_p99_ms"] = _ms(quantile(window, 0.99))
    return out


def summarize(
    report: VerifyReport,
    manifest: Manifest,
    batch: dict[str, Any],
    commit: dict[str, Any] | None = None,
    window: Buckets | None = None,
) -> dict[str, Any]:
    """The summary of one verified batch."""
    produced = report.count("produced")
    kept = report.count("stored") + report.count("superseded")
    return {
        "interval": batch.get("key"),
        "topic": manifest.topic,
        "run_id": manifest.run_id,
        "reused": bool(batch.get("reused")),
        "sent": manifest.count,
        "injected_defects": manifest.injected,
        "records_in_spans": produced,
        "stored": report.count("stored"),
        "superseded": report.count("superseded"),
        "dead_lettered": report.count("dead_lettered"),
        "dead_by_rule": dict(sorted(report.dead_by_rule.items())),
        "stored_share": round(kept / produced, 4) if produced else None,
        "latency": latency(batch, commit, window),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as lines for the task log."""
    lines = [
        f"batch {summary['interval']} on {summary['topic']} (run {summary['run_id']}"
        f"{', reused' if summary['reused'] else ''})",
        f"  sent {summary['sent']} ({summary['injected_defects']} with injected defects); "
        f"{summary['records_in_spans']} records in its offset spans",
        f"  stored {summary['stored']}, superseded {summary['superseded']}, "
        f"dead-lettered {summary['dead_lettered']} (stored share {summary['stored_share']})",
    ]
    lines += [f"    {rule:<28} {n:>8}" for rule, n in summary["dead_by_rule"].items()]
    lat = summary["latency"]
    lines.append("  latency " + ", ".join(f"{k} {v}" for k, v in lat.items() if v is not None))
    return "\n".join(lines)
