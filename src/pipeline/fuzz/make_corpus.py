#!/usr/bin/env python3
"""Writes the seed corpus of avro_decode_fuzz: users.raw values as the decoder receives
them (Confluent framing: magic 0, 4-byte schema id, Avro binary; or plain JSON). Schema
ids are those of avro_decode_fuzz.cc: 1 the contract, 2 an evolved User, 3 a rich User.

    python3 src/pipeline/fuzz/make_corpus.py   # rewrites src/pipeline/fuzz/corpus/*.bin
"""

from __future__ import annotations

import json
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus"
CONTRACT = pathlib.Path(__file__).resolve().parents[3] / "contract" / "user.avsc"


def long(v: int) -> bytes:
    z = (v << 1) ^ (v >> 63)
    out = b""
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def string(s: str) -> bytes:
    b = s.encode()
    return long(len(b)) + b


def nullable(s: str | None) -> bytes:
    return long(0) if s is None else long(1) + string(s)


def framed(schema_id: int, payload: bytes) -> bytes:
    return b"\x00" + struct.pack(">i", schema_id) + payload


def contract_user(values: dict[str, str]) -> bytes:
    names = [f["name"] for f in json.loads(CONTRACT.read_text())["fields"]]
    return b"".join(nullable(values.get(n)) for n in names)


ALICE = {
    "id": "3f2b8c1e-9a4d-4e2b-8c1f-0a9b8c7d6e5f",
    "first_name": "Alice",
    "last_name": "Martin",
    "email": "alice@example.com",
    "gender": "female",
    "dob": "1990-04-12",
    "registered_date": "2021-06-01T08:30:00Z",
}

SEEDS = {
    "contract_user": framed(1, contract_user(ALICE)),
    "contract_nulls": framed(1, contract_user({"id": "x"})),
    "evolved_user": framed(2, nullable("u-2") + nullable("bob@example.com") + nullable("gold")),
    "rich_user": framed(
        3,
        nullable("u-3")
        + long(2)
        + string("a")
        + string("b")
        + long(0)
        + long(-1)
        + long(4)
        + string("k")
        + long(1)
        + long(42)
        + long(0)
        + b"\x01\x02\x03\x04"
        + long(1)
        + struct.pack("<d", 1.5)
        + struct.pack("<f", 2.5)
        + b"\x01"
        + string("raw")
        + long(-7)
        + nullable(None),
    ),
    "json_user": json.dumps({"id": "u-4", "email": "carol@example.com"}).encode(),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (OUT / f"{name}.bin").write_bytes(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
