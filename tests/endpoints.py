"""Where the tests find the local stack: the defaults of `sluice up`, overridable with
SLUICE_TEST_* variables (to test against a second stack on other ports)."""

import os
import shlex

BOOTSTRAP = os.environ.get("SLUICE_TEST_BOOTSTRAP", "127.0.0.1:9092")
REGISTRY = os.environ.get("SLUICE_TEST_REGISTRY", "http://127.0.0.1:8081")
CASSANDRA_PORT = int(os.environ.get("SLUICE_TEST_CASSANDRA_PORT", "9042"))

# Flags that point a sluice command at the same stack.
SLUICE_FLAGS = ["--bootstrap", BOOTSTRAP, "--registry", REGISTRY]

# Flags that `sluice up` / `sluice down --only` need to reach the same stack (ports,
# --state-dir, ...), for tests that stop an engine and start it again.
UP_FLAGS = shlex.split(os.environ.get("SLUICE_TEST_UP_ARGS", ""))
