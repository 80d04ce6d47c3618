"""`sluice down` on a state folder of its own (never the running stack's): it stops only
the processes its pid files name *and* that are still the component they were (the pid
may have been reused by anything since), and `--purge` wipes the data, nothing else."""

import os
import subprocess
import sys
import time
from pathlib import Path


def down(sluice_bin: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    return subprocess.run(
        [str(sluice_bin), "down", "--state-dir", str(state), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=clean,
    )


def sleeper(*argv_tail: str) -> subprocess.Popen[bytes]:
    """A process that sleeps; extra arguments only change its command line."""
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", *argv_tail],
        start_new_session=True,
    )


def start_ticks(pid: int) -> int:
    """When the process started, in clock ticks after boot (/proc/PID/stat field 22)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def assert_down_stops_only_ours(
    sluice_bin: Path,
    state: Path,
    ours: tuple[str, subprocess.Popen[bytes], str],
    stranger: tuple[str, subprocess.Popen[bytes], str],
) -> None:
    """Writes each (component, process, pid file text) pid file, runs `down`, and checks
    that it stopped our process, left the stranger alone and removed both pid files."""
    (state / "run").mkdir(parents=True)
    try:
        for name, _, text in (ours, stranger):
            (state / "run" / f"{name}.pid").write_text(text)
        result = down(sluice_bin, state)
        assert result.returncode == 0, result.stderr
        assert ours[1].wait(30) is not None, "the component's process was stopped"
        assert f"stopping {ours[0]} (pid {ours[1].pid})" in result.stderr
        time.sleep(0.5)
        assert stranger[1].poll() is None, "a process that is not the component lives on"
        assert f"pid {stranger[1].pid}" not in result.stderr
        assert not (state / "run" / f"{stranger[0]}.pid").exists(), "the stale pid file is gone"
        assert not (state / "run" / f"{ours[0]}.pid").exists()
    finally:
        for _, p, _ in (ours, stranger):
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_down_stops_a_component_by_pid_file_but_never_a_stranger_holding_a_reused_pid(
    sluice_bin: Path, tmp_path: Path
) -> None:
    stranger = sleeper()  # its command line is not Kafka's: the pid was reused
    ours = sleeper("org.apache.cassandra.service.CassandraDaemon")
    assert_down_stops_only_ours(
        sluice_bin,
        tmp_path / "state",
        ("cassandra", ours, f"{ours.pid}\n"),  # a pid file written before start times
        ("kafka", stranger, f"{stranger.pid}\n"),
    )


def test_down_never_stops_a_process_that_reused_the_pid_even_with_the_components_words(
    sluice_bin: Path, tmp_path: Path
) -> None:
    # Its command line holds the word `down` looks for: only the start time tells it apart.
    impostor = sleeper("org.apache.cassandra.service.CassandraDaemon")
    ours = sleeper("kafka.Kafka")
    recorded = start_ticks(impostor.pid) - 100  # the component that had the pid before
    assert_down_stops_only_ours(
        sluice_bin,
        tmp_path / "state",
        ("kafka", ours, f"{ours.pid} {start_ticks(ours.pid)}\n"),
        ("cassandra", impostor, f"{impostor.pid} {recorded}\n"),
    )


def test_down_purge_wipes_data_and_generated_config_but_keeps_logs_and_downloads(
    sluice_bin: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    for folder in ("data/kafka", "data/cassandra", "conf", "logs", "lib/kafka"):
        (state / folder).mkdir(parents=True)
    (state / "data" / "kafka" / "00000.log").write_text("records")
    (state / "conf" / "kafka.properties").write_text("x=1")
    (state / "logs" / "kafka.log").write_text("log")
    (state / "lib" / "kafka" / "kafka.jar").write_text("jar")
    refused = down(sluice_bin, state, "--purge", "--only", "kafka")
    assert refused.returncode == 2 and "--purge wipes every component" in refused.stderr
    assert (state / "data" / "kafka" / "00000.log").exists(), "a refused purge wipes nothing"
    result = down(sluice_bin, state, "--purge")
    assert result.returncode == 0, result.stderr
    assert not (state / "data").exists() and not (state / "conf").exists()
    assert (state / "logs" / "kafka.log").read_text() == "log"
    assert (state / "lib" / "kafka" / "kafka.jar").exists(), "downloads are kept"
