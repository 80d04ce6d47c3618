"""Unit tests of `--pseudonymise`: the flags and each refusal's message, where the key comes
from, the key id, and the stored cells (HMAC-SHA-256 hex, checked against values computed
with `openssl dgst -sha256 -hmac KEY`), with the key absent from messages, reprs and plans."""

from __future__ import annotations

import pathlib

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sluice_spark import config, pseudonym, sinks

KEY = "0123456789abcdef-test-key"
# echo -n VALUE | openssl dgst -sha256 -hmac "$KEY"
HMAC_OF = {
    "a@b.c": "5372adee462e6a16d61fc3d4a288fcda040ec2c1683b56ac433124f726321020",
    "Zoë": "5a6164b46deae86fe18f482a1d341759891622a034150563fc57402800457162",
    "": "4e838db83ed9d61d67486e03584555d13f1d18b66ee884386663cf21fe842a86",
}
KEY_ID = "c6ddea3be883f626"  # ... of "sluice-pseudonym-key-id", first 16 digits

FIELDS = ("id", "first_name", "last_name", "email", "phone", "gender", "dob", "address",
          "postcode", "username", "registered_date", "picture")  # fmt: skip


@pytest.fixture
def env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pseudonym.DEFAULT_KEY_ENV, KEY)


def refusal(*argv: str) -> str:
    with pytest.raises(config.ConfigError) as caught:
        config.parse_args(list(argv))
    message = str(caught.value)
    assert KEY not in message
    return message


@pytest.mark.usefixtures("env_key")
def test_fields_and_the_key_from_the_default_variable_with_its_derived_id() -> None:
    p = config.parse_args(["--pseudonymise", "email,phone, email,\tlast_name"]).pseudonymisation
    assert p is not None
    assert (p.fields, p.key, p.key_id) == (("email", "phone", "last_name"), KEY.encode(), KEY_ID)
    assert config.parse_args([]).pseudonymisation is None


@pytest.mark.usefixtures("env_key")
def test_the_key_never_shows_in_the_config_repr() -> None:
    parsed = config.parse_args(["--pseudonymise", "email"])
    assert KEY not in repr(parsed) and KEY not in str(parsed)
    assert KEY_ID in repr(parsed)


def test_pseudonym_and_key_id_are_hmac_sha256_hex() -> None:
    for value, digest in HMAC_OF.items():
        assert pseudonym.pseudonym(KEY.encode(), value) == digest
    assert pseudonym.pseudonym(KEY.encode(), None) is None
    assert pseudonym.derived_key_id(KEY.encode()) == KEY_ID


@pytest.mark.usefixtures("env_key")
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("id", "--pseudonymise: 'id' is refused: the row key cannot be pseudonymised"),
        ("email,dob", "'dob' is refused: typed date/timestamp columns cannot hold a pseudonym"),
        ("registered_date", "'registered_date' is refused: typed date/timestamp columns"),
        (
            "email,emial",
            "unknown field 'emial'; allowed: first_name, last_name, email, phone, "
            "gender, address, postcode, username, picture",
        ),  # fmt: skip
        ("email,e mail", "unknown field 'e mail'"),
        ("email, ,phone", "an empty field name in 'email, ,phone'"),
        ("email,,phone", "--pseudonymise: an empty field name in 'email,,phone'"),
        ("email,", "an empty field name in 'email,'"),
        ("", "an empty field name in ''"),
    ],
)
def test_refused_fields_are_named_with_the_reason(fields: str, message: str) -> None:
    assert message in refusal("--pseudonymise", fields)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (KEY.encode() + b"\n", KEY.encode()),
        (KEY.encode() + b"\r\n", KEY.encode()),
        (KEY.encode() + b"\n\n", KEY.encode() + b"\n"),  # only one newline is dropped
        (KEY.encode() + b" ", KEY.encode() + b" "),
        (b"\x00\xff" * 8, b"\x00\xff" * 8),  # any bytes
    ],
)
def test_key_file_bytes_lose_one_trailing_newline(
    tmp_path: pathlib.Path, content: bytes, key: bytes
) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    p = config.parse_args(["--pseudonymise", "email", "--pseudonym-key-file", str(path)])
    assert p.pseudonymisation is not None and p.pseudonymisation.key == key
    assert p.pseudonymisation.key_id == pseudonym.derived_key_id(key)


def test_key_from_a_named_variable_and_a_given_key_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    monkeypatch.delenv(pseudonym.DEFAULT_KEY_ENV, raising=False)
    p = config.parse_args(
        [
            "--pseudonymise",
            "phone",
            "--pseudonym-key-env",
            "MY_KEY",
            "--pseudonym-key-id",
            "k-1.a_B",
        ]
    ).pseudonymisation
    assert p is not None and (p.key, p.key_id) == (KEY.encode(), "k-1.a_B")
    assert config.parse_args(
        ["--pseudonymise", "phone", "--pseudonym-key-env", "MY_KEY", "--pseudonym-key-id", "x" * 64]
    ).pseudonymisation


@pytest.mark.usefixtures("env_key")
@pytest.mark.parametrize("key_id", ["", "x" * 65, "a b", "a/b", "é"])
def test_a_bad_key_id_is_refused(key_id: str) -> None:
    message = refusal("--pseudonymise", "email", "--pseudonym-key-id", key_id)
    assert f"--pseudonym-key-id wants 1-64 characters of A-Z a-z 0-9 . _ -, got {key_id!r}" in (
        message
    )


def test_key_source_refusals_name_the_variable_or_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.delenv(pseudonym.DEFAULT_KEY_ENV, raising=False)
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    assert "environment variable SLUICE_PSEUDONYM_KEY holding the key is not set" in refusal(
        "--pseudonymise", "email"
    )
    assert "--pseudonym-key-env: the environment variable NO_SUCH_KEY_VAR" in refusal(
        "--pseudonymise", "email", "--pseudonym-key-env", "NO_SUCH_KEY_VAR"
    )
    missing = tmp_path / "nope"
    assert f"--pseudonym-key-file: cannot read {missing}: No such file" in refusal(
        "--pseudonymise", "email", "--pseudonym-key-file", str(missing)
    )
    assert f"cannot read {tmp_path}" in refusal(
        "--pseudonymise", "email", "--pseudonym-key-file", str(tmp_path)
    )
    monkeypatch.setenv("MY_KEY", KEY)
    assert "--pseudonym-key-file and --pseudonym-key-env exclude each other" in refusal(
        "--pseudonymise", "email", "--pseudonym-key-file", str(missing),
        "--pseudonym-key-env", "MY_KEY",
    )  # fmt: skip


def test_a_short_key_names_its_source_and_length_never_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    short = "fifteen-bytes!!"
    monkeypatch.setenv(pseudonym.DEFAULT_KEY_ENV, short)
    message = refusal("--pseudonymise", "email")
    assert message == (
        "the pseudonym key from $SLUICE_PSEUDONYM_KEY is 15 bytes; at least 16 are needed"
    )
    assert short not in message
    path = tmp_path / "key"
    path.write_bytes(short.encode() + b"\r\n")
    message = refusal("--pseudonymise", "email", "--pseudonym-key-file", str(path))
    assert f"the pseudonym key from the key file {path} is 15 bytes" in message
    assert short not in message
    path.write_bytes(b"\n")
    assert "is 0 bytes" in refusal("--pseudonymise", "email", "--pseudonym-key-file", str(path))
    monkeypatch.setenv("MY_KEY", "é" * 8)  # 16 bytes, 8 characters: enough
    assert config.parse_args(["--pseudonymise", "email", "--pseudonym-key-env", "MY_KEY"])


@pytest.mark.usefixtures("env_key")
@pytest.mark.parametrize(
    "flag", ["--pseudonym-key-file", "--pseudonym-key-env", "--pseudonym-key-id"]
)
def test_key_flags_without_pseudonymise_are_refused_by_name(flag: str) -> None:
    assert refusal(flag, "x") == f"{flag} needs --pseudonymise"


def valid_frame() -> list:
    row = {f: f"{f}-value" for f in FIELDS} | {"email": "a@b.c", "last_name": "Zoë", "phone": None}
    return [
        (*(row[f] for f in FIELDS), 1, 2, 7, "users.raw", 0, 42, 1_700_000_000_000),
        (*(row[f] for f in FIELDS), 1, 2, 7, "users.raw", 0, 43, 1_700_000_000_001),
    ]


def typed(spark: SparkSession, p: pseudonym.Pseudonymisation | None) -> tuple[list, str]:
    schema = ", ".join(f"{f} string" for f in FIELDS) + (
        ", _dob_days int, _registered_ms long, schema_id int, topic string, partition int, "
        "offset long, ts_ms long"
    )
    df = spark.createDataFrame(valid_frame(), schema)
    rows = sinks.typed_rows(df, FIELDS, F.col("_dob_days"), F.col("_registered_ms"), 3, p)
    plan = rows._jdf.queryExecution().toString()  # noqa: SLF001 - the plan's text
    return rows.collect(), plan


def test_rows_carry_pseudonyms_and_the_key_id_and_the_plan_no_key(spark: SparkSession) -> None:
    p = pseudonym.Pseudonymisation(("email", "last_name", "phone"), KEY_ID, KEY.encode())
    rows, plan = typed(spark, p)
    for row in rows:
        assert row["email"] == HMAC_OF["a@b.c"]
        assert row["last_name"] == HMAC_OF["Zoë"]
        assert row["phone"] is None  # null stays null
        assert row["first_name"] == "first_name-value" and row["id"] == "id-value"
        assert row["pseudonym_key_id"] == KEY_ID
    assert "pseudonym_of" in plan
    assert KEY not in plan and KEY.encode().hex() not in plan


def test_rows_without_pseudonymise_keep_values_and_an_empty_key_id(spark: SparkSession) -> None:
    rows, plan = typed(spark, None)
    assert rows[0]["email"] == "a@b.c" and rows[0]["last_name"] == "Zoë"
    assert rows[0]["pseudonym_key_id"] == ""  # empty, not null: no tombstone cell
    assert "pseudonym_of" not in plan
