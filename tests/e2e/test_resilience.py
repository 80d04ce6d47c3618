"""The processor under failure, on the real stack: Cassandra stopped for 30 s while
records keep arriving, and several processor instances sharing the group with one of
them killed. In every case each produced record ends up exactly once in `users` or in
the dead-letter topic, and `sluice verify` agrees."""

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.e2e.helpers import (
    Lane,
    assert_exactly_once,
    await_session,
    committed_offsets,
    generate,
    high_watermarks,
    metric,
    process_command,
    produce_json,
    wait_for_metric,
    wait_until_verified,
)
from tests.endpoints import SLUICE_FLAGS
from tests.stack_control import start_stack, stop_component, take_down_for

pytestmark = pytest.mark.usefixtures("stack")


def partition_lags(port: int) -> dict[str, float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.findall(r'^sluice_process_partition_lag\{partition="(\d+)"\} (\S+)$', text, re.M)
    return {partition: float(value) for partition, value in found}


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(60)


def test_cassandra_stopped_for_30_s_mid_run_processor_stays_up_and_catches_up(
    sluice_bin: Path, lane: Lane
) -> None:
    seed, count = 808, 60_000
    producer = subprocess.Popen(
        [
            str(sluice_bin),
            "produce",
            *SLUICE_FLAGS,
            "--topic",
            lane.raw,
            "--format",
            "json",
            "--seed",
            str(seed),
            "--count",
            str(count),
            "--bad-ratio",
            "0.05",
            "--rate",
            "1500",
        ],
        stderr=subprocess.DEVNULL,
    )
    metrics_port = free_port()
    processor = subprocess.Popen(
        process_command(sluice_bin, lane, metrics_port=metrics_port),
        stderr=subprocess.PIPE,
    )
    try:
        written = wait_for_metric(metrics_port, "sluice_process_written_total", 0, 60)
        assert (written or 0) > 0, "the processor wrote nothing within 60 s"
        take_down_for(sluice_bin, "cassandra", 30)
        assert processor.poll() is None, "the processor exited while Cassandra was down"
        assert (metric(metrics_port, "sluice_process_retries_total") or 0) > 0
        assert producer.wait(300) == 0
        report = wait_until_verified(sluice_bin, lane, timeout_s=240)
        assert report["ok"], report
        lag = metric(metrics_port, "sluice_process_consumer_lag")
        deadline = time.monotonic() + 20
        while lag != 0 and time.monotonic() < deadline:
            time.sleep(1)
            lag = metric(metrics_port, "sluice_process_consumer_lag")
        assert lag == 0
        assert processor.poll() is None
        assert stop(processor) == 0
    finally:
        for p in (producer, processor):
            if p.poll() is None:
                p.kill()
    users = generate(sluice_bin, seed=seed, count=count, bad_ratio=0.05)
    assert report["produced"] == count
    await_session(lane)  # the test's own driver session outlived the restart
    assert_exactly_once(lane, users)


@pytest.mark.parametrize("instances", [2, 3])
def test_instances_sharing_the_group_with_one_killed_lose_and_duplicate_nothing(
    sluice_bin: Path, lane: Lane, instances: int
) -> None:
    users = generate(sluice_bin, seed=1000 + instances, count=80_000, bad_ratio=0.05)
    produce_json(lane.raw, users)
    ports = [free_port() for _ in range(instances)]
    processors = [
        subprocess.Popen(
            [
                *process_command(sluice_bin, lane, metrics_port=port),
                "--session-timeout-ms",
                "8000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        # Instance 0 is killed mid-work: it owns partitions (it consumed), and it holds
        # records it has not acknowledged, so its partitions' next owners must re-read them.
        deadline = time.monotonic() + 60
        consumed = in_flight = 0.0
        while time.monotonic() < deadline and not (consumed > 2000 and in_flight > 0):
            time.sleep(0.05)
            consumed = metric(ports[0], "sluice_process_consumed_total") or 0.0
            in_flight = metric(ports[0], "sluice_process_in_flight") or 0.0
        assert consumed > 2000 and in_flight > 0, (consumed, in_flight)
        processors[0].send_signal(signal.SIGKILL)
        processors[0].wait(30)
        marks = high_watermarks(lane.raw)
        committed = committed_offsets(lane.group, lane.raw)
        assert any(committed[p] < marks[p] for p in marks), "the kill left nothing to re-read"
        report = wait_until_verified(sluice_bin, lane, timeout_s=240)
        assert report["ok"], report
        assert all(p.poll() is None for p in processors[1:]), "a survivor exited"
        assert all(stop(p) == 0 for p in processors[1:])
    finally:
        for p in processors:
            if p.poll() is None:
                p.kill()
    assert report["produced"] == len(users)
    assert_exactly_once(lane, users)


def test_partitions_paused_during_an_outage_resume_after_a_rebalance_onto_the_survivor(
    sluice_bin: Path, lane: Lane
) -> None:
    users = generate(sluice_bin, seed=1207, count=20_000, bad_ratio=0.05)
    ports = [free_port(), free_port()]
    processors = [
        subprocess.Popen(
            [
                *process_command(sluice_bin, lane, metrics_port=port),
                "--max-in-flight",
                "50",
                "--session-timeout-ms",
                "6000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        # Both join before the records arrive, so both own partitions.
        for port in ports:
            assert wait_for_metric(port, "sluice_process_consumed_total", -1, 30) is not None
        time.sleep(8)
        produce_json(lane.raw, users)
        for port in ports:  # both own partitions and have written some of them
            assert wait_for_metric(port, "sluice_process_written_total", 100, 60), port
        stop_component(sluice_bin, "cassandra")
        try:
            # Both fill their 50 records in flight and pause fetching.
            for port in ports:
                assert wait_for_metric(port, "sluice_process_in_flight", 49, 60), port
            processors[0].send_signal(signal.SIGKILL)
            processors[0].wait(30)
            # The survivor takes the dead member's partitions (after the 6 s session
            # timeout) while its own are paused.
            time.sleep(15)
        finally:
            start_stack(sluice_bin)
        report = wait_until_verified(sluice_bin, lane, timeout_s=240)
        assert report["ok"], report
        deadline = time.monotonic() + 30  # the lag gauges refresh every 5 s
        lags = partition_lags(ports[1])
        while set(lags.values()) != {0.0} and time.monotonic() < deadline:
            time.sleep(1)
            lags = partition_lags(ports[1])
        assert len(lags) == 6 and set(lags.values()) == {0.0}, lags
        assert processors[1].poll() is None and stop(processors[1]) == 0
    finally:
        for p in processors:
            if p.poll() is None:
                p.kill()
    assert report["produced"] == len(users)
    await_session(lane)
    assert_exactly_once(lane, users)
