"""`--pseudonymise`: chosen fields of valid rows replaced by a keyed pseudonym, exactly as
`sluice process --pseudonymise` does, so both processors store the same cells:

- the pseudonym of a value is the lowercase hex of HMAC-SHA-256(key, its UTF-8 bytes);
  null stays null; it is applied after validation (the rules judge the raw values, and a
  dead letter keeps the raw bytes);
- every row written with a key carries the key's id in `pseudonym_key_id`: the one given
  or the first 16 hex digits of HMAC-SHA-256(key, "sluice-pseudonym-key-id").

The key itself is kept out of reprs, logs and plans: it lives only in the closure of a
Python UDF (Spark's plan text shows the UDF's name and arguments, never its closure)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import pathlib
import re
from collections.abc import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Fields that may be pseudonymised: the text columns of `users` besides the row key.
ALLOWED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "gender",
    "address",
    "postcode",
    "username",
    "picture",
)
REFUSED_FIELDS = {
    "id": "the row key cannot be pseudonymised",
    "dob": "typed date/timestamp columns cannot hold a pseudonym",
    "registered_date": "typed date/timestamp columns cannot hold a pseudonym",
}
DEFAULT_KEY_ENV = "SLUICE_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
KEY_ID_MESSAGE = b"sluice-pseudonym-key-id"
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class PseudonymError(ValueError):
    """A pseudonymisation flag or key the job cannot run with; the message names it."""


@dataclasses.dataclass(frozen=True)
class Pseudonymisation:
    """What to pseudonymise and with which key (never shown by repr)."""

    fields: tuple[str, ...]
    key_id: str
    key: bytes = dataclasses.field(repr=False)


def pseudonym(key: bytes, value: str | None) -> str | None:
    """The stored form of `value`: lowercase hex HMAC-SHA-256 of its UTF-8 bytes."""
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def derived_key_id(key: bytes) -> str:
    """The default key id: the first 16 hex digits of HMAC-SHA-256(key, a fixed text)."""
    return hmac.new(key, KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


def parse_fields(text: str) -> tuple[str, ...]:
    """The fields of `--pseudonymise a,b,c`, in order, duplicates dropped; blanks and tabs
    around a name are ignored, as by `sluice process`."""
    chosen: list[str] = []
    for entry in text.split(","):
        name = entry.strip(" \t")
        if not name:
            raise PseudonymError(f"--pseudonymise: an empty field name in {text!r}")
        if name in REFUSED_FIELDS:
            raise PseudonymError(f"--pseudonymise: {name!r} is refused: {REFUSED_FIELDS[name]}")
        if name not in ALLOWED_FIELDS:
            raise PseudonymError(
                f"--pseudonymise: unknown field {name!r}; allowed: {', '.join(ALLOWED_FIELDS)}"
            )
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def check_key_id(text: str) -> str:
    if not KEY_ID_PATTERN.fullmatch(text):
        raise PseudonymError(
            f"--pseudonym-key-id wants 1-64 characters of A-Z a-z 0-9 . _ -, got {text!r}"
        )
    return text


def key_from_file(path: pathlib.Path) -> bytes:
    """The file's bytes without one trailing newline (\\n or \\r\\n)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PseudonymError(
            f"--pseudonym-key-file: cannot read {path}: {e.strerror or type(e).__name__}"
        ) from None
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data.removesuffix(b"\n")


def key_from_env(name: str, flag: str) -> bytes:
    value = os.environb.get(name.encode()) if name else None
    if value is None:
        raise PseudonymError(f"{flag}: the environment variable {name} holding the key is not set")
    return value


def load(
    fields_text: str | None,
    key_file: pathlib.Path | None,
    key_env: str | None,
    key_id: str | None,
) -> Pseudonymisation | None:
    """The pseudonymisation the flags ask for (None without --pseudonymise), its key read
    and checked; every refusal names the flag, the file or the variable, never the key."""
    if fields_text is None:
        for flag, given in (
            ("--pseudonym-key-file", key_file is not None),
            ("--pseudonym-key-env", key_env is not None),
            ("--pseudonym-key-id", key_id is not None),
        ):
            if given:
                raise PseudonymError(f"{flag} needs --pseudonymise")
        return None
    fields = parse_fields(fields_text)
    if key_id is not None:
        check_key_id(key_id)
    if key_file is not None and key_env is not None:
        raise PseudonymError("--pseudonym-key-file and --pseudonym-key-env exclude each other")
    if key_file is not None:
        key, source = key_from_file(key_file), f"the key file {key_file}"
    elif key_env is not None:
        key, source = key_from_env(key_env, "--pseudonym-key-env"), f"${key_env}"
    else:
        key = key_from_env(DEFAULT_KEY_ENV, "--pseudonymise without a key flag")
        source = f"${DEFAULT_KEY_ENV}"
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymError(
            f"the pseudonym key from {source} is {len(key)} bytes; "
            f"at least {MIN_KEY_BYTES} are needed"
        )
    return Pseudonymisation(fields, key_id or derived_key_id(key), key)


def pseudonym_udf(key: bytes) -> Callable[[Column], Column]:
    """A Python UDF (string -> string) holding the key in its closure only."""

    # Self-contained (no call into this module), so that executors need nothing of the job.
    def pseudonym_of(value: str | None) -> str | None:  # the UDF's name in plans
        if value is None:
            return None
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    return F.udf(pseudonym_of, T.StringType())


def field_columns(p: Pseudonymisation | None, fields: tuple[str, ...]) -> dict[str, Column]:
    """Each contract field's stored cell: its pseudonym where chosen, else the value."""
    if p is None:
        return {f: F.col(f) for f in fields}
    apply = pseudonym_udf(p.key)
    return {f: apply(F.col(f)).alias(f) if f in p.fields else F.col(f) for f in fields}


def key_id_column(p: Pseudonymisation | None) -> Column:
    """`pseudonym_key_id`: the key's id, or empty (not null) for rows stored as received,
    like the C++ processor: a null would be a tombstone cell in every row."""
    return F.lit(p.key_id if p else "").cast("string").alias("pseudonym_key_id")
