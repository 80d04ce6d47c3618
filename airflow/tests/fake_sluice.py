"""A stand-in for the `sluice` binary: logs its argv and environment check, and acts as
FAKE_SLUICE_MODE says: `produce` writes a manifest like src/pipeline/produce.cc (all records
acknowledged, or with `fail` a short one and exit 1); `verify` prints FAKE_VERIFY_OUT and
exits with FAKE_EXIT."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

SCRIPT = r"""#!PYTHON
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SLUICE_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
def flag(name):
    return args[args.index(name) + 1]
mode = os.environ.get("FAKE_SLUICE_MODE", "ok")
if args[0] == "produce":
    count = int(flag("--count"))
    acked = count if mode == "ok" else count // 2
    manifest = {
        "run_id": "00000000000000aa", "topic": flag("--topic"), "format": flag("--format"),
        "schema_id": 1, "seed": int(flag("--seed")), "start_index": int(flag("--start-index")),
        "count": count, "acknowledged": acked, "good": count - 1,
        "bad_by_kind": {"bad_email": 1},
        "partitions": {"0": {"first_offset": 100, "last_offset": 100 + acked // 2},
                       "3": {"first_offset": 7, "last_offset": 7 + acked - acked // 2}},
    }
    with open(flag("--manifest"), "w") as f:
        json.dump(manifest, f)
    print("done: sent %d acknowledged %d" % (count, acked), file=sys.stderr)
    sys.exit(0 if mode == "ok" else 1)
if args[0] == "verify":
    print(os.environ.get("FAKE_VERIFY_OUT", ""))
    print(os.environ.get("FAKE_VERIFY_ERR", ""), file=sys.stderr)
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
sys.exit(2)
"""


def install(folder: Path) -> tuple[Path, Path]:
    """Writes the fake binary into `folder`; returns it and its argv log."""
    binary, log = folder / "sluice", folder / "argv.log"
    binary.write_text(SCRIPT.replace("PYTHON", sys.executable))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    log.write_text("")
    os.environ["FAKE_SLUICE_LOG"] = str(log)
    return binary, log


def calls(log: Path) -> list[list[str]]:
    import json

    return [json.loads(line) for line in log.read_text().splitlines()]
