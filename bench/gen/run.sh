#!/usr/bin/env bash
# Users per second on one core, JSON out: `sluice gen` against Python Faker generating
# the same twelve fields, side by side in one run, median of 3 runs each.
# Usage: bench/gen/run.sh [sluice-count] [faker-count]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
N_SLUICE="${1:-2000000}"
N_FAKER="${2:-20000}"
VENV="$ROOT/.venv-bench"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r "$ROOT/bench/gen/requirements.txt"

rate() {  # rate COUNT COMMAND... -> users/s
  local count="$1"; shift
  local start end
  start=$(date +%s.%N)
  taskset -c 0 "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$count / ($end - $start)" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

s=(); f=()
for _ in 1 2 3; do
  s+=("$(rate "$N_SLUICE" "$SLUICE" gen --count "$N_SLUICE" --seed 1)")
  f+=("$(rate "$N_FAKER" "$VENV/bin/python" "$ROOT/bench/gen/faker_users.py" "$N_FAKER")")
done
ms=$(median "${s[@]}"); mf=$(median "${f[@]}")
printf '%-22s %14s\n' generator "users/s (median of 3, one core)"
printf '%-22s %14.0f\n' "sluice gen" "$ms"
printf '%-22s %14.0f\n' "Faker (Python)" "$mf"
printf 'ratio sluice/Faker: %.1fx\n' "$(echo "$ms / $mf" | bc -l)"
