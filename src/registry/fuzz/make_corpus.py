#!/usr/bin/env python3
"""Writes the seed corpora of the registry's fuzz targets, one input per file:

- corpus/ (schema_fuzz): small real Avro schemas as the registry receives them; a file
  holding two schemas separated by a 0 byte is a (new schema, registered version) pair
  that schema_fuzz checks for FULL compatibility.
- state_corpus/ (state_fuzz): _schemas topic records as Confluent's registry and this one
  write them, key and value separated by 0 bytes (an empty value is a tombstone),
  several records per file.
- service_corpus/ (service_fuzz): sequences of REST API requests, each a method byte
  (0 GET, 1 POST, 2 PUT, 3 DELETE), a target ended by a 0 byte and a body ended by a 0
  byte.

    python3 src/registry/fuzz/make_corpus.py   # rewrites src/registry/fuzz/*corpus/*.bin
"""

from __future__ import annotations

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus"
STATE_OUT = HERE / "state_corpus"
SERVICE_OUT = HERE / "service_corpus"
CONTRACT = pathlib.Path(__file__).resolve().parents[3] / "contract" / "user.avsc"

# The Avro type nesting limit of registry/schema.h (max_type_nesting).
MAX_TYPE_NESTING = 64

Schema = dict[str, object] | list[object] | str


def record(name: str, fields: list[dict[str, object]], namespace: str = "") -> dict[str, object]:
    out: dict[str, object] = {"type": "record", "name": name, "fields": fields}
    if namespace:
        out["namespace"] = namespace
    return out


def field(name: str, type_: Schema, **extra: object) -> dict[str, object]:
    return {"name": name, "type": type_, **extra}


def nested_arrays(levels: int) -> Schema:
    schema: Schema = "int"
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


def lookalike_unions(levels: int) -> tuple[Schema, Schema]:
    """A small instance of the nested unions of look-alike records that made the
    unmemoised check exponential (see tests/hostile_schemas.h)."""
    defs: list[object] = []
    for k in range(levels, 0, -1):
        inner = field("x", "int") if k == levels else field("f", [f"a.R{k + 1}", f"b.R{k + 1}"])
        defs.append(record(f"R{k}", [inner, field("z", "int")], "a"))
        defs.append(record(f"R{k}", [inner], "b"))
    reader = record(
        "Top",
        [field("defs", ["null", *defs], default=None), field("f", ["a.R1", "b.R1"])],
    )
    writer: Schema = record(f"R{levels}", [field("x", "int")], "w")
    for k in range(levels - 1, 0, -1):
        writer = record(f"R{k}", [field("f", writer)], "w")
    return reader, record("Top", [field("f", writer)])


def text(schema: Schema) -> bytes:
    return json.dumps(schema, separators=(",", ":")).encode()


def pair(new: Schema, old: Schema) -> bytes:
    return text(new) + b"\x00" + text(old)


CONTRACT_SCHEMA: Schema = json.loads(CONTRACT.read_text())

RICH = record(
    "User",
    [
        field("id", ["null", "string"], default=None),
        field("tags", {"type": "array", "items": "string"}),
        field("attrs", {"type": "map", "values": ["null", "long"]}),
        field("hash", {"type": "fixed", "name": "H", "size": 4}),
        field("kind", {"type": "enum", "name": "K", "symbols": ["A", "B"], "default": "A"}),
        field("born", {"type": "int", "logicalType": "date"}),
        field("seen", {"type": "long", "logicalType": "timestamp-millis"}),
        field(
            "amount",
            {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        ),
        field("uid", {"type": "string", "logicalType": "uuid"}),
        field(
            "inner",
            record("Inner", [field("x", "double"), field("y", "float"), field("b", "boolean")]),
        ),
    ],
    "sluice.v1",
)

LINKED_LIST = record("Node", [field("v", "int"), field("next", ["null", "Node"])])

SEEDS: dict[str, bytes] = {
    "primitive": text("string"),
    "contract_user": text(CONTRACT_SCHEMA),
    "rich_user": text(RICH),
    "enum": text({"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN"]}),
    "fixed": text({"type": "fixed", "name": "Md5", "size": 16}),
    "map_of_arrays": text({"type": "map", "values": {"type": "array", "items": "long"}}),
    "linked_list": text(LINKED_LIST),
    "deep_arrays_at_limit": text(nested_arrays(MAX_TYPE_NESTING)),
    "pair_new_optional_field": pair(
        record("U", [field("a", "string"), field("b", ["null", "int"], default=None)]),
        record("U", [field("a", "string")]),
    ),
    "pair_int_to_long": pair(record("U", [field("n", "long")]), record("U", [field("n", "int")])),
    "pair_enum_lost_symbol": pair(
        {"type": "enum", "name": "G", "symbols": ["A"]},
        {"type": "enum", "name": "G", "symbols": ["A", "B"]},
    ),
    "pair_nested_unions": pair(*lookalike_unions(4)),
    "pair_recursive": pair(LINKED_LIST, LINKED_LIST),
    # Regression: a named type defined twice (avro-c leaked the half-built record).
    # Regression: a number beyond double's range (nlohmann threw out_of_range, uncaught).
    "regression_number_overflow": b'{"type":"fixed","name":"F","size":4444e440444}',
    "regression_duplicate_record": text(
        record("A", [field("f", record("A", [field("x", "int")]))]),
    ),
}


def log_record(key: dict[str, object], value: dict[str, object] | None) -> bytes:
    """One _schemas record: key, 0, value (a tombstone has an empty value)."""
    return text(key) + b"\x00" + (b"" if value is None else text(value))


def schema_key(subject: str, version: int) -> dict[str, object]:
    return {"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}


def schema_value(subject: str, version: int, id_: int, schema: Schema) -> dict[str, object]:
    return {
        "subject": subject,
        "version": version,
        "id": id_,
        "schema": json.dumps(schema),
        "deleted": False,
    }


def config_key(subject: str | None) -> dict[str, object]:
    return {"keytype": "CONFIG", "subject": subject, "magic": 0}


def records(*parts: bytes) -> bytes:
    return b"\x00".join(parts)


STATE_SEEDS: dict[str, bytes] = {
    "two_versions_and_config": records(
        log_record(schema_key("users-value", 1), schema_value("users-value", 1, 1, "string")),
        log_record(
            schema_key("users-value", 2),
            schema_value("users-value", 2, 2, CONTRACT_SCHEMA),
        ),
        log_record(config_key(None), {"compatibilityLevel": "FULL"}),
        log_record(config_key("users-value"), {"compatibilityLevel": "NONE"}),
    ),
    "confluent_noop_and_soft_delete": records(
        log_record({"keytype": "NOOP", "magic": 0}, {}),
        log_record(
            schema_key("s", 1),
            {**schema_value("s", 1, 7, "int"), "deleted": True, "schemaType": "AVRO"},
        ),
        log_record({"keytype": "DELETE_SUBJECT", "subject": "s", "magic": 0}, {}),
    ),
    "tombstones": records(
        log_record(schema_key("s", 1), schema_value("s", 1, 1, "long")),
        log_record(schema_key("s", 1), None),
        log_record(config_key("s"), None),
    ),
    "malformed_between_good": records(
        log_record(schema_key("s", 1), schema_value("s", 1, 1, "int")),
        log_record(schema_key("s", 2), {"id": 3000000000, "schema": '"int"'}),
        b"[1,2]",
        b'{"oops"',
        log_record(schema_key("s", 3), schema_value("s", 3, 2, "long")),
    ),
}


METHODS = {"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3}


def request(method: str, target: str, body: object = None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    return bytes([METHODS[method]]) + target.encode() + b"\x00" + payload + b"\x00"


def register(subject: str, schema: Schema) -> bytes:
    return request("POST", f"/subjects/{subject}/versions", {"schema": json.dumps(schema)})


EVOLVED = record("U", [field("a", "string"), field("b", ["null", "int"], default=None)])

SERVICE_SEEDS: dict[str, bytes] = {
    "register_evolve_and_read": register("s", record("U", [field("a", "string")]))
    + register("s", EVOLVED)
    + request("GET", "/subjects/s/versions/latest")
    + request("GET", "/schemas/ids/2/versions")
    + request("GET", "/subjects/s/versions/1/schema"),
    "compatibility_and_config": register("s", RICH)
    + request("POST", "/compatibility/subjects/s/versions/latest?verbose=true", {"schema": '"int"'})
    + request("PUT", "/config/s", {"compatibility": "FULL_TRANSITIVE"})
    + request("GET", "/config/s?defaultToGlobal=true")
    + request("DELETE", "/config/s"),
    "lookup_and_delete": register("a%2Fb", LINKED_LIST)
    + request("POST", "/subjects/a%2Fb", {"schema": json.dumps(LINKED_LIST)})
    + request("DELETE", "/subjects/a%2Fb/versions/1")
    + request("GET", "/subjects?deleted=true")
    + request("DELETE", "/subjects/a%2Fb?permanent=true"),
    "nested_unions": register("n", lookalike_unions(3)[1])
    + request("POST", "/subjects/n/versions", {"schema": json.dumps(lookalike_unions(3)[0])}),
}


def write(out: pathlib.Path, seeds: dict[str, bytes]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (out / f"{name}.bin").write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {out}")


def main() -> None:
    write(OUT, SEEDS)
    write(STATE_OUT, STATE_SEEDS)
    write(SERVICE_OUT, SERVICE_SEEDS)


if __name__ == "__main__":
    main()
