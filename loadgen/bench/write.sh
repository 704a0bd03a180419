#!/usr/bin/env bash
# The write path against its physical limit, in one run (BENCHMARKS.md,
# "The write path"): pgbench's three-insert transaction at 64 clients
# (pgbench.sh) and create-reservation at 64 concurrent requests over gRPC
# and through the edge, alternating, PASSES (3) times; one JSON report per
# loadgen run and one text file per pgbench run in OUT, then the medians.
#
#   loadgen/bench/write.sh [OUT]          default OUT: target/bench/write-<date-time>
#
# Against a stack started by `scripts/stack up`; RESERVATION_GRPC_URL and
# EDGE_URL point it at another reservation-svc and edge (as for the
# before/after figures), and WATCH_PIDS names the processes to watch
# (default: the stack's reservation-svc and edge).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:-target/bench/write-$(date +%Y%m%d-%H%M%S)}"
run_dir="${KURSI_RUN_DIR:-.kursi/run}"
mkdir -p "$out"
# The stack's build (scripts/stack): the same package set, so nothing is rebuilt.
cargo build --release --quiet --workspace --bins
watch=()
for pid in ${WATCH_PIDS:-$(cat "$run_dir/reservation-svc.pid" "$run_dir/edge.pid")}; do
  watch+=(--watch-pid "$pid")
done
for pass in $(seq 1 "${PASSES:-3}"); do
  echo "write: pass $pass, pgbench" >&2
  DURATION="${DURATION:-10}" bash "$root/loadgen/bench/pgbench.sh" >"$out/pgbench-$pass.txt" 2>&1
  echo "write: pass $pass, create-reservation" >&2
  target/release/loadgen create-reservation -t both -c 64 -d "${DURATION:-10}s" -w 2s \
    "${watch[@]}" --json >"$out/create-64-$pass.json"
done
python3 - "$out" <<'PY'
import glob, json, re, statistics, sys
out = sys.argv[1]
passes = sorted(glob.glob(f"{out}/pgbench-*.txt"))
tps = [float(re.search(r"tps = ([0-9.]+)", open(p).read()).group(1)) for p in passes]
docs = [json.load(open(p.replace("pgbench-", "create-64-").replace(".txt", ".json"))) for p in passes]
med = statistics.median
print(f"pgbench three-insert, 64 clients: {med(tps):.0f} TPS [{min(tps):.0f}-{max(tps):.0f}]")
for transport in ("grpc", "rest"):
    runs = [next(r for r in d["runs"] if r["transport"] == transport) for d in docs]
    # Each pass's throughput against the pgbench run just before it.
    ratios = [r["requests_per_second"] / t for r, t in zip(runs, tps)]
    rate = med(r["requests_per_second"] for r in runs)
    p99 = med(r["latency_ms"]["p99"] for r in runs)
    errors = sum(sum(r["errors"].values()) for r in runs)
    cpu = {}
    for r in runs:
        for p in r["processes"]:
            cpu.setdefault(p["name"], []).append(p["cpu_seconds"] * 1e6 / max(r["requests"], 1))
    per = ", ".join(f"{name} {med(v):.0f}" for name, v in cpu.items())
    print(f"create-reservation {transport:4}: {rate:6.0f} req/s, {med(ratios):.2f} of pgbench "
          f"[{min(ratios):.2f}-{max(ratios):.2f}], p99 {p99:.1f} ms, errors {errors}; "
          f"CPU µs a request: {per}")
PY
