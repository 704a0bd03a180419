#!/usr/bin/env bash
# The runs behind BENCHMARKS.md, against a stack started by `scripts/stack up`:
# each scenario at its concurrency, gRPC straight to the service and then REST
# through the edge on the same prepared data, PASSES times; one JSON report per
# run in OUT/, then the medians (summarize.py beside this file). create-order
# counts an order of 2 tickets and its cancellation as one request; seat-rush
# runs until its fresh showtime (one per transport) is sold out, so DURATION
# and WARMUP do not apply to it, and a failed oversold check stops the bench.
#
#   loadgen/bench/run.sh [OUT]        default OUT: target/bench/<date-time>
#
# PASSES (3), DURATION (10s) and WARMUP (2s) change the shape. PIN=split
# gives the edge the last core to itself and pins the services, PostgreSQL and
# loadgen to the others for the whole run (taskset; undone at exit), so the
# edge's cost shows as latency rather than as CPU taken from the service. It
# pins the whole PostgreSQL server the stack uses, so run it on a machine of
# your own. The addresses
# are the stack's defaults unless AUTH_GRPC_URL, RESERVATION_GRPC_URL,
# CATALOG_GRPC_URL, ORDER_GRPC_URL or EDGE_URL say otherwise; the pids to watch come from the stack's pid files
# (KURSI_RUN_DIR, default .kursi/run); the admin password from
# BOOTSTRAP_ADMIN_PASSWORD or .kursi/admin-password.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:-target/bench/$(date +%Y%m%d-%H%M%S)}"
run_dir="${KURSI_RUN_DIR:-.kursi/run}"
passes="${PASSES:-3}"
mkdir -p "$out"

# The stack's build (scripts/stack): the same package set, so nothing is rebuilt.
cargo build --release --quiet --workspace --bins
loadgen=target/release/loadgen

# PIN=split: the edge on the last core, everything else on the others.
pinned=()
loadgen_cpus=()
unpin() {
  local pid
  for pid in "${pinned[@]}" $(pgrep -P "${pg_pid:-0}" 2>/dev/null); do
    taskset -a -cp "0-$(($(nproc) - 1))" "$pid" >/dev/null 2>&1 || true
  done
}
if [[ ${PIN:-} == split ]]; then
  cores=$(nproc)
  if ((cores < 2)); then
    echo "bench: PIN=split needs at least two cores" >&2
    exit 2
  fi
  rest="0-$((cores - 2))"
  pg_port=$(sed -E 's|^[a-z]+://[^/]*:([0-9]+).*$|\1|' "$run_dir/postgres-url")
  pg_pid=$(ss -ltnpH "sport = :$pg_port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  if [[ -z $pg_pid ]]; then
    echo "bench: PIN=split: no PostgreSQL listens on port $pg_port" >&2
    exit 2
  fi
  trap unpin EXIT
  # Backends forked later inherit the postmaster's cores.
  for pid in "$pg_pid" $(pgrep -P "$pg_pid"); do
    taskset -a -cp "$rest" "$pid" >/dev/null && pinned+=("$pid")
  done
  for svc in auth-svc reservation-svc catalog-svc order-svc; do
    pid=$(<"$run_dir/$svc.pid")
    taskset -a -cp "$rest" "$pid" >/dev/null && pinned+=("$pid")
  done
  pid=$(<"$run_dir/edge.pid")
  taskset -a -cp "$((cores - 1))" "$pid" >/dev/null && pinned+=("$pid")
  loadgen_cpus=(taskset -c "$rest")
fi

watch=()
for svc in auth-svc reservation-svc catalog-svc order-svc edge; do
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
  "order-64 create-order 64"
  "rush-64 seat-rush 64"
)
for pass in $(seq 1 "$passes"); do
  for spec in "${runs[@]}"; do
    read -r name scenario concurrency <<<"$spec"
    echo "bench: pass $pass, $name" >&2
    # A seat rush ends when it is sold out: no window, no warm-up.
    window=(-d "${DURATION:-10s}" -w "${WARMUP:-2s}")
    [[ $scenario == seat-rush ]] && window=()
    "${loadgen_cpus[@]}" "$loadgen" "$scenario" -t both -c "$concurrency" "${window[@]}" \
      "${watch[@]}" --json >"$out/$name-$pass.json"
  done
done
python3 "$root/loadgen/bench/summarize.py" "$out"
