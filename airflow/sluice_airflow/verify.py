"""`sluice verify --manifest FILE --output json` for one batch, and its verdict. The JSON keys
are those of src/cli/verify.cc; exit 0 is a balance, 1 a mismatch (JSON still printed), 2 an
error (no JSON). A mismatch fails the task without retries (the group has committed past
the batch, so waiting changes nothing) and names the records; an error, or records not yet
processed, is retried."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sluice_airflow.config import Settings
from sluice_airflow.sluice_cli import SluiceCommandError, cassandra_flags, run_sluice, tail

log = logging.getLogger(__name__)

COUNTS = (
    "produced",
    "stored",
    "superseded",
    "dead_lettered",
    "purged",
    "missing",
    "in_both",
    "unexpected_rows",
    "unexpected_dead_letters",
    "not_yet_processed",
    "duplicate_dead_letters",
)


# Counts a report of an older sluice lacks (read as 0): `purged` came with `dlq purge`.
SINCE_LATER_VERSIONS = frozenset({"purged"})


class VerifyMismatchError(AirflowFailException):
    """The batch does not balance; the message names the records (not retried)."""


class BatchNotProcessedError(RuntimeError):
    """Part of the batch is past the group's committed offsets: a retry may balance."""


class VerifyOutputError(ValueError):
    """`sluice verify` printed something that is not its JSON report."""


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    id: str

    def describe(self) -> str:
        return f"{self.id or '(no id)'} (partition {self.partition} offset {self.offset})"


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    topic: str
    manifest: str
    counts: dict[str, int]
    dead_by_rule: dict[str, int] = field(default_factory=dict)
    missing_records: list[Record] = field(default_factory=list)
    in_both_records: list[Record] = field(default_factory=list)

    def count(self, name: str) -> int:
        return self.counts[name]


def _records(data: Mapping[str, Any], key: str) -> list[Record]:
    return [Record(int(r["partition"]), int(r["offset"]), str(r.get("id", ""))) for r in data[key]]


def report_from_json(data: Mapping[str, Any]) -> VerifyReport:
    """The report from the JSON object `sluice verify --output json` prints."""
    try:
        return VerifyReport(
            ok=bool(data["ok"]),
            topic=str(data["topic"]),
            manifest=str(data.get("manifest", "")),
            counts={
                name: int(data.get(name, 0) if name in SINCE_LATER_VERSIONS else data[name])
                for name in COUNTS
            },
            dead_by_rule={str(k): int(v) for k, v in data["dead_by_rule"].items()},
            missing_records=_records(data, "missing_records"),
            in_both_records=_records(data, "in_both_records"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise VerifyOutputError(f"not a sluice verify JSON report (bad or missing {e})") from e


def parse_json(text: str) -> dict[str, Any]:
    """The JSON object of `sluice verify --output json`'s stdout."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise VerifyOutputError(f"not a sluice verify JSON report ({e}): {text[:300]!r}") from e
    if not isinstance(data, dict):
        raise VerifyOutputError(f"not a sluice verify JSON report: {text[:300]!r}")
    return data


def parse_report(text: str) -> VerifyReport:
    """The report from `sluice verify --output json`'s stdout."""
    return report_from_json(parse_json(text))


def _named(what: str, total: int, records: list[Record]) -> str:
    shown = ", ".join(r.describe() for r in records)
    more = f" and {total - len(records)} more" if total > len(records) else ""
    return f"{total} {what}: {shown}{more}"


def problems(report: VerifyReport, batch_count: int | None = None) -> list[str]:
    """Everything wrong with a report, one line each, naming the records it knows."""
    found: list[str] = []
    if report.count("missing"):
        found.append(_named("missing", report.count("missing"), report.missing_records))
    if report.count("in_both"):
        found.append(_named("in both sinks", report.count("in_both"), report.in_both_records))
    if report.count("unexpected_rows") or report.count("unexpected_dead_letters"):
        found.append(
            f"{report.count('unexpected_rows')} row(s) and "
            f"{report.count('unexpected_dead_letters')} dead letter(s) name a position "
            "in the batch where there is no record"
        )
    if report.count("not_yet_processed"):
        found.append(f"{report.count('not_yet_processed')} record(s) not yet processed")
    if batch_count is not None and report.count("produced") < batch_count:
        found.append(
            f"the batch's offset spans hold {report.count('produced')} records, "
            f"fewer than the {batch_count} it sent"
        )
    if not report.ok and not found:
        found.append("sluice verify reported a mismatch")
    return found


def require_balanced(report: VerifyReport, batch_count: int | None = None) -> None:
    """Raises when a report does not balance, listing its problems: BatchNotProcessedError
    (retried) while part of the batch is not processed, else VerifyMismatchError."""
    found = problems(report, batch_count)
    if not found:
        return
    lines = "\n".join(f"- {p}" for p in found)
    message = f"batch {report.manifest} does not balance:\n{lines}"
    if report.count("not_yet_processed"):
        raise BatchNotProcessedError(message)
    raise VerifyMismatchError(message)


def verify_args(settings: Settings, manifest_path: str) -> list[str]:
    """The `sluice verify` arguments of one batch."""
    return [
        "verify",
        "--manifest",
        manifest_path,
        "--output",
        "json",
        "--timeout",
        repr(settings.verify_timeout_s),
        "--bootstrap",
        settings.bootstrap,
        "--dlq-topic",
        settings.dlq_topic,
        "--group",
        settings.group_id,
        "--registry",
        settings.registry_url,
        "--keyspace",
        settings.keyspace,
        *cassandra_flags(settings),
    ]


def run_verify(settings: Settings, manifest_path: str) -> dict[str, Any]:
    """Runs `sluice verify` on a batch and returns its checked JSON report (an XCom: counts
    and record positions and ids, no secret); SluiceCommandError when it could not decide."""
    result = run_sluice(
        settings,
        verify_args(settings, manifest_path),
        timeout_s=settings.verify_timeout_s + settings.command_timeout_s,
        ok_codes=(0, 1),
    )
    if result.stderr.strip():
        log.info("sluice verify: %s", tail(result.stderr, 5))
    try:
        data = parse_json(result.stdout)
        report_from_json(data)
    except VerifyOutputError as e:
        raise SluiceCommandError(f"{e}\nstderr: {tail(result.stderr)}") from e
    return data
