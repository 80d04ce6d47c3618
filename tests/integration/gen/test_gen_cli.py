"""`sluice gen` as a user runs it: deterministic JSON lines, Avro output that a standard
Avro library (fastavro) reads back to the same users, and flag errors naming the flag."""

import io
import json
import subprocess
from pathlib import Path

import fastavro


def gen(sluice: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(sluice), "gen", *args], capture_output=True, timeout=60, check=False)


def test_same_seed_prints_the_same_users(sluice_bin: Path) -> None:
    first = gen(sluice_bin, "--seed", "7", "--count", "500").stdout
    assert first == gen(sluice_bin, "--seed", "7", "--count", "500").stdout
    assert first != gen(sluice_bin, "--seed", "8", "--count", "500").stdout
    assert len(first.splitlines()) == 500


def test_avro_output_decodes_to_the_json_users(sluice_bin: Path, repo: Path) -> None:
    schema = fastavro.parse_schema(json.loads((repo / "contract" / "user.avsc").read_text()))
    avro = io.BytesIO(gen(sluice_bin, "--seed", "3", "--count", "200", "--format", "avro").stdout)
    decoded = []
    while avro.tell() < len(avro.getbuffer()):
        decoded.append(fastavro.schemaless_reader(avro, schema))
    lines = gen(sluice_bin, "--seed", "3", "--count", "200").stdout.splitlines()
    assert decoded == [json.loads(line) for line in lines]


def test_bad_flag_values_name_the_flag(sluice_bin: Path) -> None:
    for args, flag in (
        (["--bad-ratio", "2"], "--bad-ratio"),
        (["--nat", "ZZ"], "--nat"),
        (["--format", "xml"], "--format"),
    ):
        result = gen(sluice_bin, *args)
        assert result.returncode == 2
        assert flag.encode() in result.stderr
