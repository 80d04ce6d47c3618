#!/usr/bin/env python3
"""Writes the seed corpus of cql_frame_fuzz: small server frames of CQL native protocol v4
(a 9-byte header and a body), one per file, built from the spec here.

    python3 src/cql/fuzz/make_corpus.py   # rewrites src/cql/fuzz/corpus/*.bin
"""

from __future__ import annotations

import pathlib
import socket
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus"


def short(v: int) -> bytes:
    return struct.pack(">H", v & 0xFFFF)


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def string(s: str) -> bytes:
    b = s.encode()
    return short(len(b)) + b


def cell(b: bytes | None) -> bytes:
    return i32(-1) if b is None else i32(len(b)) + b


def inet(addr: str, port: int) -> bytes:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    raw = socket.inet_pton(family, addr)
    return bytes([len(raw)]) + raw + i32(port)


def collection(items: list[bytes]) -> bytes:
    return i32(len(items)) + b"".join(cell(i) for i in items)


def frame(op: int, body: bytes, stream: int = 0, flags: int = 0, version: int = 0x84) -> bytes:
    return (
        bytes([version, flags])
        + struct.pack(">hB", stream, op)
        + struct.pack(">I", len(body))
        + body
    )


VARCHAR, INT, BIGINT, UUID, TIMESTAMP, INET = (
    short(0x0D),
    short(0x09),
    short(0x02),
    short(0x0C),
    short(0x0B),
    short(0x10),
)


def set_of(t: bytes) -> bytes:
    return short(0x22) + t


def list_of(t: bytes) -> bytes:
    return short(0x20) + t


def map_of(k: bytes, v: bytes) -> bytes:
    return short(0x21) + k + v


def rows_global(columns: list[tuple[str, bytes]], rows: list[list[bytes | None]]) -> bytes:
    b = i32(2) + i32(0x0001) + i32(len(columns)) + string("ks") + string("tbl")
    for name, t in columns:
        b += string(name) + t
    b += i32(len(rows))
    for r in rows:
        b += b"".join(cell(c) for c in r)
    return b


SEEDS = {
    "ready": frame(0x02, b""),
    "authenticate": frame(0x03, string("org.apache.cassandra.auth.PasswordAuthenticator")),
    "error_invalid": frame(0x00, i32(0x2200) + string("unconfigured table nope")),
    "error_unprepared": frame(0x00, i32(0x2500) + string("Unprepared") + short(4) + b"\x01\x02id"),
    "error_write_timeout": frame(
        0x00, i32(0x1100) + string("timeout") + short(4) + i32(1) + i32(2) + string("SIMPLE")
    ),
    "supported": frame(
        0x06,
        short(2)
        + string("CQL_VERSION")
        + short(1)
        + string("3.4.5")
        + string("COMPRESSION")
        + short(2)
        + string("lz4")
        + string("snappy"),
    ),
    "result_void": frame(0x08, i32(1)),
    "result_set_keyspace": frame(0x08, i32(3) + string("ks")),
    "result_schema_change": frame(
        0x08, i32(5) + string("CREATED") + string("TABLE") + string("ks") + string("tbl")
    ),
    "result_rows": frame(
        0x08,
        rows_global(
            [("k", VARCHAR), ("v", INT), ("tags", set_of(VARCHAR))],
            [[b"a", i32(1), collection([b"x", b"y"])], [b"b", None, collection([])]],
        ),
    ),
    "result_rows_paged": frame(
        0x08,
        i32(2)
        + i32(0x0002)
        + i32(4)
        + cell(b"\x00\x04page")
        + string("ks")
        + string("t")
        + string("id")
        + UUID
        + string("ks")
        + string("t")
        + string("at")
        + TIMESTAMP
        + string("ks")
        + string("t")
        + string("m")
        + map_of(VARCHAR, BIGINT)
        + string("ks")
        + string("t")
        + string("ips")
        + list_of(INET)
        + i32(1)
        + cell(bytes(range(16)))
        + cell(struct.pack(">q", 1700000000000))
        + cell(i32(1) + cell(b"n") + cell(struct.pack(">q", 5)))
        + cell(collection([bytes([127, 0, 0, 1])])),
    ),
    "result_rows_no_metadata": frame(
        0x08, i32(2) + i32(0x0004) + i32(2) + i32(1) + cell(b"a") + cell(None)
    ),
    "result_prepared": frame(
        0x08,
        i32(4)
        + short(2)
        + b"id"
        + i32(0x0001)
        + i32(2)
        + i32(1)
        + short(0)
        + string("ks")
        + string("tbl")
        + string("k")
        + INT
        + string("v")
        + VARCHAR
        + i32(0x0001)
        + i32(1)
        + string("ks")
        + string("tbl")
        + string("v")
        + VARCHAR,
    ),
    "event_topology": frame(
        0x0C, string("TOPOLOGY_CHANGE") + string("NEW_NODE") + inet("127.0.0.2", 9042), stream=-1
    ),
    "event_status_v6": frame(
        0x0C, string("STATUS_CHANGE") + string("DOWN") + inet("::1", 9042), stream=-1
    ),
    "event_schema_table": frame(
        0x0C,
        string("SCHEMA_CHANGE")
        + string("CREATED")
        + string("TABLE")
        + string("ks")
        + string("tbl"),
        stream=-1,
    ),
    "event_schema_keyspace": frame(
        0x0C,
        string("SCHEMA_CHANGE") + string("DROPPED") + string("KEYSPACE") + string("ks"),
        stream=-1,
    ),
    # Flag 0x08: a [string list] of warnings before the body.
    "result_void_warning": frame(0x08, short(1) + string("batch too large") + i32(1), flags=0x08),
    # Flag 0x01: an LZ4 body (4-byte length, then a literal-only block) of a void RESULT.
    "result_void_lz4": frame(0x08, i32(4) + bytes([0x40]) + i32(1), flags=0x01),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (OUT / f"{name}.bin").write_bytes(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
