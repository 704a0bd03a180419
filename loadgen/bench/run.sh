#!/usr/bin/env bash
# The runs behind BENCHMARKS.md, against a stack started by `scripts/stack up`:
# each scenario at its concurrency, gRPC straight to the service and then REST
# through the edge on the same prepared data, PASSES times; one JSON report per
# run in OUT/, then the medians (summarize.py beside this file).
#
#   loadgen/bench/run.sh [OUT]        default OUT: target/bench/<date-time>
#
# PASSES (3), DURATION (10s) and WARMUP (2s) change the shape. The addresses
# are the stack's defaults unless AUTH_GRPC_URL, RESERVATION_GRPC_URL or
# EDGE_URL say otherwise; the pids to watch come from the stack's pid files
# (KURSI_RUN_DIR, default .kursi/run); the admin password from
# BOOTSTRAP_ADMIN_PASSWORD or .kursi/admin-password.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:-target/bench/$(date +%Y%m%d-%H%M%S)}"
run_dir="${KURSI_RUN_DIR:-.kursi/run}"
passes="${PASSES:-3}"
mkdir -p "$out"

cargo build --release --quiet -p loadgen
loadgen=target/release/loadgen

watch=()
for svc in auth-svc reservation-svc edge; do
  if [[ -r $run_dir/$svc.pid ]]; then
    watch+=(--watch-pid "$(<"$run_dir/$svc.pid")")
  else
    echo "bench: no $run_dir/$svc.pid; $svc's memory is not reported" >&2
  fi
done

# name scenario concurrency
runs=(
  "get-64 get-reservation 64"
  "get-16 get-reservation 16"
  "list-64 list-reservations 64"
  "create-64 create-reservation 64"
  "login-8 login 8"
)
for pass in $(seq 1 "$passes"); do
  for spec in "${runs[@]}"; do
    read -r name scenario concurrency <<<"$spec"
    echo "bench: pass $pass, $name" >&2
    "$loadgen" "$scenario" -t both -c "$concurrency" -d "${DURATION:-10s}" \
      -w "${WARMUP:-2s}" "${watch[@]}" --json >"$out/$name-$pass.json"
  done
done
python3 "$root/loadgen/bench/summarize.py" "$out"
