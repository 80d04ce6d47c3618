"""`sluice gen` as a user runs it: deterministic JSON lines, Avro output that a standard
Avro library (fastavro) reads back to the same users, and flag errors naming the flag."""

import io
import json
import subprocess
from pathlib import Path

import fastavro


def gen(sluice: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(sluice), "gen", *args], capture_output=True, timeout=60, check=False)


# What `sluice gen --seed 42 --count 3` prints, on every machine and every day (ages and
# dates are relative to the generator's fixed as-of date, 2026-01-01). Pinned as literals
# so that any change of the generator's output fails here; if the change is deliberate,
# update these together with src/gen/tests/generator_test.cc.
SEED_42 = [
    {
        "id": "c406f0ff-7c3d-4223-a10b-0d96293f9a44",
        "first_name": "Méabh",
        "last_name": "O'Brien",
        "email": "meabh.obrien@example.com",
        "phone": "02-220-9594",
        "gender": "female",
        "dob": "1959-03-12",
        "address": "1284 Strand Road, Sligo, Connacht, Ireland",
        "postcode": "H73 SMSU",
        "username": "organicelephant948",
        "registered_date": "2023-08-20T09:51:49.324Z",
        "picture": "https://randomuser.me/api/portraits/women/40.jpg",
    },
    {
        "id": "ef517f5d-5b8c-4333-bf81-e1756dd9571b",
        "first_name": "Oliver",
        "last_name": "Evans",
        "email": "oliver.evans@example.com",
        "phone": "048-9147-3686",
        "gender": "male",
        "dob": "1942-10-05",
        "address": "9850 Victoria Road, Bristol, South West, United Kingdom",
        "postcode": "LA7 0NZ",
        "username": "smarttiger215",
        "registered_date": "2018-08-05T23:16:03.029Z",
        "picture": "https://randomuser.me/api/portraits/men/56.jpg",
    },
    {
        "id": "e9330f3d-9172-4014-ba36-e488dd8dd016",
        "first_name": "Emma",
        "last_name": "Fortin",
        "email": "emma.fortin@example.com",
        "phone": "001-230-9973",
        "gender": "female",
        "dob": "1993-06-10",
        "address": "1 Rue Sainte-Catherine, Regina, Saskatchewan, Canada",
        "postcode": "J2N 9L2",
        "username": "yellowgoose779",
        "registered_date": "2021-03-16T18:49:17.146Z",
        "picture": "https://randomuser.me/api/portraits/women/47.jpg",
    },
]
# The contract's twelve fields, in the order `sluice gen` prints them.
CONTRACT_FIELDS = list(SEED_42[0])


def users(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, str]]:
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def test_seed_42_prints_the_pinned_users_on_every_machine(sluice_bin: Path) -> None:
    printed = users(gen(sluice_bin, "--seed", "42", "--count", "3"))
    assert printed == SEED_42
    assert [list(user) for user in printed] == [CONTRACT_FIELDS] * 3


def test_start_index_prints_the_same_user_as_that_position_of_the_full_run(
    sluice_bin: Path,
) -> None:
    assert users(gen(sluice_bin, "--seed", "42", "--count", "1", "--start-index", "2")) == [
        SEED_42[2]
    ]


def test_nat_and_gender_flags_print_the_pinned_french_men(sluice_bin: Path) -> None:
    flags = ("--seed", "42", "--count", "3", "--nat", "fr", "--gender", "male")
    printed = users(gen(sluice_bin, *flags))
    assert [(u["id"], u["first_name"], u["last_name"], u["dob"]) for u in printed] == [
        ("254606aa-33b3-4420-89a9-9c3d36435d11", "Adam", "Lefèvre", "1939-11-14"),
        ("731274bc-ce46-47ec-9789-a2a2133b7e82", "Nathan", "Martin", "1973-08-14"),
        ("6c7007d2-f1c8-4c53-9878-01b49ca98a16", "Clément", "Martin", "1998-06-07"),
    ]
    assert all(u["gender"] == "male" and u["address"].endswith(", France") for u in printed)
    assert printed[1]["postcode"] == "09870"  # a leading zero survives (a string, not a number)


def test_as_of_moves_birth_dates_with_it_and_keeps_the_rest(sluice_bin: Path) -> None:
    later = users(gen(sluice_bin, "--seed", "42", "--count", "1", "--as-of", "2030-01-01"))[0]
    assert later["dob"] == "1963-03-12"  # four years after 1959-03-12: same age at as-of
    unchanged = ("id", "first_name", "last_name", "email", "address", "username")
    assert {k: later[k] for k in unchanged} == {k: SEED_42[0][k] for k in unchanged}


def test_same_seed_prints_the_same_500_users_and_another_seed_others(sluice_bin: Path) -> None:
    first = gen(sluice_bin, "--seed", "7", "--count", "500").stdout
    assert len(first.splitlines()) == 500
    assert first == gen(sluice_bin, "--seed", "7", "--count", "500").stdout
    other = gen(sluice_bin, "--seed", "8", "--count", "500").stdout
    ids = {json.loads(line)["id"] for line in first.splitlines()}
    assert len(ids) == 500
    assert not ids & {json.loads(line)["id"] for line in other.splitlines()}


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
