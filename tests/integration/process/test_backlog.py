"""`--max-in-flight` bounds what a processor holds under a backlog (README: "at
`--max-in-flight` (5000) unacknowledged records fetching pauses"; src/pipeline/process.h:
"records polled but unacknowledged (bounds memory)").

A fresh lane is preloaded with 150,000 JSON users; a processor drains it with
`--stop-at-end`, once with `--max-in-flight 200` and once with 20000 (each in a group of
its own, so each reads the whole backlog), while the test samples its
`sluice_process_in_flight` gauge and its /proc memory every 0.2 s. The gauge must reach
the bound (the backlog really pressed against it) and never pass it (the processor
dispatches a record only while fewer than the bound are unacknowledged), and the peak
resident memory with 200 must be clearly below the one with 20000."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, port_open
from tests.e2e.helpers import Lane, drop_lane, make_lane, process_command
from tests.endpoints import BOOTSTRAP, CASSANDRA_PORT

pytestmark = pytest.mark.usefixtures("stack")

BACKLOG = 150_000
SAMPLE_EVERY = 0.2
# 19,800 more records in flight hold at least their JSON values (about 400 bytes each,
# README's figures) beyond what 200 hold: 7.6 MiB. Asking for 8 MiB of difference in peak
# resident memory is that and no more.
MIN_RSS_SAVING_KIB = 8 * 1024


@dataclass
class Drain:
    max_in_flight: int
    seconds: float
    samples: int
    peak_in_flight: float
    peak_rss_kib: int  # the largest VmRSS sampled
    peak_hwm_kib: int  # the largest VmHWM sampled (the kernel's own peak, up to the last sample)
    consumed: float
    stderr: str


@pytest.fixture(scope="module")
def backlog(sluice_bin: Path, repo: Path) -> Iterator[Lane]:
    deadline = time.monotonic() + 90  # another test may be restarting Cassandra
    while not port_open(CASSANDRA_PORT):
        assert time.monotonic() < deadline, "Cassandra is down"
        time.sleep(2)
    lane = make_lane(repo)
    try:
        produced = subprocess.run(
            [
                str(sluice_bin),
                "produce",
                "--format",
                "json",
                "--count",
                str(BACKLOG),
                "--seed",
                "4242",
                "--topic",
                lane.raw,
                "--bootstrap",
                BOOTSTRAP,
                "--metrics-port",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=50,
            check=False,
        )
        assert produced.returncode == 0, produced.stderr[-2000:]
        assert f"acknowledged {BACKLOG} failed 0" in produced.stderr, produced.stderr[-2000:]
        yield lane
    finally:
        drop_lane(lane)


def metric(text: str, name: str) -> float | None:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found[1]) if found else None


def memory_kib(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM of a live process, or (0, 0) once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    rss = re.search(r"^VmRSS:\s+(\d+) kB$", status, re.MULTILINE)
    hwm = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)
    return (int(rss[1]) if rss else 0), (int(hwm[1]) if hwm else 0)


def drain(sluice: Path, lane: Lane, max_in_flight: int) -> Drain:
    port = free_port()
    own = dataclasses.replace(lane, group=f"{lane.group}-mif{max_in_flight}")
    command = process_command(
        sluice,
        own,
        "--stop-at-end",
        "--idle-exit",
        "2",
        "--max-in-flight",
        str(max_in_flight),
        metrics_port=port,
    )
    began = time.monotonic()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak_in_flight, peak_rss, peak_hwm, samples, consumed = 0.0, 0, 0, 0, 0.0
    try:
        while process.poll() is None:
            assert time.monotonic() - began < 50, f"not drained in 50 s (consumed {consumed})"
            rss, hwm = memory_kib(process.pid)
            peak_rss, peak_hwm = max(peak_rss, rss), max(peak_hwm, hwm)
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
            except requests.RequestException:
                text = ""  # not listening yet, or already stopped
            in_flight = metric(text, "sluice_process_in_flight")
            if in_flight is not None:
                samples += 1
                peak_in_flight = max(peak_in_flight, in_flight)
                consumed = metric(text, "sluice_process_consumed_total") or consumed
            time.sleep(SAMPLE_EVERY)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, stderr[-3000:]
    result = Drain(
        max_in_flight,
        time.monotonic() - began,
        samples,
        peak_in_flight,
        peak_rss,
        peak_hwm,
        consumed,
        stderr,
    )
    print(
        f"--max-in-flight {max_in_flight}: drained {BACKLOG} in {result.seconds:.1f} s, "
        f"{samples} samples, peak in-flight {peak_in_flight:.0f}, "
        f"peak VmRSS {peak_rss} KiB, VmHWM {peak_hwm} KiB"
    )
    return result


@pytest.fixture(scope="module")
def drained(sluice_bin: Path, backlog: Lane) -> Callable[[int], Drain]:
    """The drain of the backlog at a --max-in-flight, run once per value."""
    done: dict[int, Drain] = {}

    def get(max_in_flight: int) -> Drain:
        if max_in_flight not in done:
            done[max_in_flight] = drain(sluice_bin, backlog, max_in_flight)
        return done[max_in_flight]

    return get


@pytest.mark.parametrize("max_in_flight", [200, 20000])
def test_in_flight_gauge_reaches_but_never_exceeds_max_in_flight_while_draining(
    drained: Callable[[int], Drain], max_in_flight: int
) -> None:
    result = drained(max_in_flight)
    assert f"stopped: consumed {BACKLOG}, written {BACKLOG} in" in result.stderr, result.stderr[
        -2000:
    ]
    assert result.samples >= 5, f"only {result.samples} samples: the drain was not watched"
    assert result.peak_in_flight <= max_in_flight
    # The backlog pressed against the bound: otherwise the check above proves nothing.
    assert result.peak_in_flight == max_in_flight


def test_peak_memory_with_max_in_flight_200_is_clearly_below_20000(
    drained: Callable[[int], Drain],
) -> None:
    small, large = drained(200), drained(20000)
    numbers = (
        f"peak VmHWM {small.peak_hwm_kib} KiB at 200 vs {large.peak_hwm_kib} KiB at 20000; "
        f"peak VmRSS sampled {small.peak_rss_kib} vs {large.peak_rss_kib} KiB"
    )
    print(numbers)
    assert small.peak_hwm_kib > 0 and large.peak_hwm_kib > 0, numbers
    assert small.peak_hwm_kib + MIN_RSS_SAVING_KIB <= large.peak_hwm_kib, numbers
