"""Test setup: Airflow's home in a fresh temporary folder (no examples, no database needed
for parsing), set before anything imports airflow; helpers shared by the tests."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

HOME = tempfile.mkdtemp(prefix="sluice-airflow-tests-")
atexit.register(shutil.rmtree, HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
for name in list(os.environ):
    if name.startswith("SLUICE_") or name == "AIRFLOW_CONN_SLUICE_KAFKA":
        del os.environ[name]  # the tests set what they need

AIRFLOW_DIR = Path(__file__).resolve().parents[1]
REPO = AIRFLOW_DIR.parent
DATA = Path(__file__).resolve().parent / "data"
SLUICE_BIN = REPO / "build" / "sluice"
