#!/usr/bin/env bash
# What metrics and traces cost, as ratios in one run: the stack restarted
# three ways, in turn, each pass —
#   plain    no METRICS_ADDR, no OTEL_EXPORTER_OTLP_ENDPOINT (the defaults)
#   metrics  every process serves /metrics (KURSI_METRICS=1), scraped once
#            a second during the run, as a busy Prometheus would
#   traced   metrics, and every span exported over OTLP/gRPC to a counting
#            sink on loopback (testkit's otlp-sink example)
# and the same scenarios run against each, gRPC straight to the service and
# REST through the edge: get-reservation and create-reservation at 64
# clients. One JSON report per run in OUT/, then the medians
# (summarize.py) and each mode's throughput and CPU a request against plain.
#
#   loadgen/bench/observability.sh [OUT]   default OUT: target/bench/observability-<date-time>
#
# PASSES (3), DURATION (10s), WARMUP (2s) and OTLP_SINK_PORT (24317) change
# it; KURSI_SKIP_BUILD=1 measures the binaries already built. Runs against `scripts/stack` (it restarts the stack's services; start
# it with `scripts/stack up` first) and leaves it running plain.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:-target/bench/observability-$(date +%Y%m%d-%H%M%S)}"
run_dir="${KURSI_RUN_DIR:-.kursi/run}"
passes="${PASSES:-3}"
sink_port="${OTLP_SINK_PORT:-24317}"
mkdir -p "$out"

if [[ -z ${KURSI_SKIP_BUILD:-} ]]; then
  cargo build --release --quiet --workspace --bins
  cargo build --release --quiet -p kursi-testkit --example otlp-sink
fi
loadgen=target/release/loadgen

target/release/examples/otlp-sink "$sink_port" >"$out/otlp-sink.log" 2>&1 &
sink=$!
scraper=
cleanup() {
  [[ -n $scraper ]] && kill "$scraper" 2>/dev/null
  kill "$sink" 2>/dev/null || true
  wait "$sink" 2>/dev/null || true
}
trap cleanup EXIT

# Restarts the services as MODE says.
restart_as() {
  local mode=$1
  local settings=(KURSI_SKIP_BUILD=1 KURSI_METRICS= OTEL_EXPORTER_OTLP_ENDPOINT=)
  case $mode in
    metrics) settings+=(KURSI_METRICS=1) ;;
    traced) settings+=(KURSI_METRICS=1 OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port") ;;
  esac
  # A service's port is in Linux's ephemeral range: a client socket of
  # the run before may hold it a moment; try again rather than end the run.
  local try
  for try in 1 2 3; do
    env "${settings[@]}" scripts/stack restart >"$out/stack-$mode.log" 2>&1 && return 0
    echo "observability: restart $try as $mode failed; see $out/stack-$mode.log" >&2
    sleep 5
  done
  return 1
}

# Scrapes every process's /metrics once a second, as Prometheus would.
scrape_every_second() {
  while sleep 1; do
    for port in 9090 9091 9092 9093 9094; do
      curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true
    done
  done
}

for pass in $(seq 1 "$passes"); do
  for mode in plain metrics traced; do
    echo "observability: pass $pass, $mode" >&2
    restart_as "$mode"
    watch=()
    for svc in auth-svc reservation-svc catalog-svc order-svc edge; do
      watch+=(--watch-pid "$(<"$run_dir/$svc.pid")")
    done
    if [[ $mode != plain ]]; then
      scrape_every_second &
      scraper=$!
    fi
    for spec in "get get-reservation" "create create-reservation"; do
      read -r name scenario <<<"$spec"
      "$loadgen" "$scenario" -t both -c 64 -d "${DURATION:-10s}" -w "${WARMUP:-2s}" \
        "${watch[@]}" --json >"$out/$name-$mode-$pass.json"
    done
    if [[ -n $scraper ]]; then
      kill "$scraper" 2>/dev/null || true
      wait "$scraper" 2>/dev/null || true
      scraper=
    fi
    # One scrape of each process kept, to show what is served.
    if [[ $mode == traced && $pass == "$passes" ]]; then
      for port in 9090 9092; do
        curl -s "http://127.0.0.1:$port/metrics" >"$out/metrics-$port.txt" || true
      done
    fi
  done
done
restart_as plain
cleanup
trap - EXIT
tail -1 "$out/otlp-sink.log" >&2

python3 "$root/loadgen/bench/summarize.py" "$out"
python3 - "$out" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
runs = {}
for path in glob.glob(os.path.join(out, "*.json")):
    m = re.match(r"(\w+)-(plain|metrics|traced)-\d+\.json$", os.path.basename(path))
    if not m:
        continue
    for run in json.load(open(path))["runs"]:
        cpu = sum(p["cpu_seconds"] for p in run["processes"]) * 1e6 / max(run["requests"], 1)
        runs.setdefault((m[1], run["transport"], m[2]), []).append((run["requests_per_second"], cpu))
print()
print(f"{'run':7} {'via':5} {'mode':8} {'req/s':>8} {'× plain':>8} {'CPU µs/req':>11} {'× plain':>8}")
for (name, via, mode) in sorted(runs, key=lambda k: (k[0], k[1], ["plain", "metrics", "traced"].index(k[2]))):
    rps = statistics.median(r for r, _ in runs[(name, via, mode)])
    cpu = statistics.median(c for _, c in runs[(name, via, mode)])
    base = runs.get((name, via, "plain"))
    brps = statistics.median(r for r, _ in base) if base else float("nan")
    bcpu = statistics.median(c for _, c in base) if base else float("nan")
    print(f"{name:7} {via:5} {mode:8} {rps:8.0f} {rps / brps:8.2f} {cpu:11.0f} {cpu / bcpu:8.2f}")
print("CPU µs/req: every Kursi process's CPU (services and edge) over the requests of the run")
PY
