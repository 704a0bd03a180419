#!/usr/bin/env python3
"""Medians over the passes of loadgen/bench/run.sh: one line per run and
transport, as in BENCHMARKS.md, then seat-rush's own figures (time to sell
out, orders won and refused, the oversold check). Usage: summarize.py OUT_DIR"""

import glob
import json
import os
import re
import statistics
import sys


def median(values):
    values = list(values)
    return statistics.median(values) if values else float("nan")


def main(out):
    passes = {}
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        name = re.sub(r"-\d+$", "", os.path.basename(path)[: -len(".json")])
        with open(path) as f:
            passes.setdefault(name, []).append(json.load(f))
    print(f"{'run':10} {'via':5} {'req/s':>8} {'p50':>6} {'p90':>6} {'p99':>6} {'max':>7} "
          f"{'errors':>6}  {'edge/grpc':>9}  RSS MiB (CPU µs a request)")
    for name, docs in passes.items():
        ratio = median(d["edge_throughput_ratio"] for d in docs if "edge_throughput_ratio" in d)
        for transport in ("grpc", "rest"):
            runs = [r for d in docs for r in d["runs"] if r["transport"] == transport]
            if not runs:
                continue
            lat = lambda key: median(r["latency_ms"][key] for r in runs)
            errors = sum(sum(r["errors"].values()) for r in runs)
            usage = {}
            for r in runs:
                for p in r["processes"]:
                    per_request = p["cpu_seconds"] * 1e6 / max(r["requests"], 1)
                    usage.setdefault(p["name"], []).append((p["max_rss_kib"] / 1024, per_request))
            processes = ", ".join(
                f"{proc} {median(m for m, _ in v):.1f} ({median(c for _, c in v):.0f})"
                for proc, v in usage.items())
            shown_ratio = f"{ratio:9.2f}" if transport == "rest" else " " * 9
            print(f"{name:10} {transport:5} {median(r['requests_per_second'] for r in runs):8.0f} "
                  f"{lat('p50'):6.2f} {lat('p90'):6.2f} {lat('p99'):6.2f} {lat('max'):7.2f} "
                  f"{errors:6}  {shown_ratio}  {processes}")
    if any(r["scenario"] == "create-order" for d in sum(passes.values(), []) for r in d["runs"]):
        print("create-order: a request is an order of 2 tickets and its cancellation, timed together")
    rushes(passes)


def rushes(passes):
    """seat-rush: medians over the passes, the range of the time to sell out
    in brackets, and whether the oversold check held in every pass."""
    rows = []
    for name, docs in passes.items():
        for transport in ("grpc", "rest"):
            runs = [r for d in docs for r in d["runs"]
                    if r["transport"] == transport and r.get("rush")]
            if runs:
                rows.append((name, transport, [r["rush"] for r in runs]))
    if not rows:
        return
    print()
    print(f"{'run':10} {'via':5} {'sold out s':>10} {'[range]':>15} {'won':>5} {'refused':>7} "
          f"{'seats':>5} {'left':>4} {'errors':>6}  oversold")
    for name, transport, rush in rows:
        times = [r["time_to_sell_out_seconds"] for r in rush
                 if r["time_to_sell_out_seconds"] is not None]
        spread = f"[{min(times):.3f}–{max(times):.3f}]" if times else "[not sold out]"
        failed = sum(1 for r in rush if not r["oversold"].startswith("oversold: no"))
        verdict = (f"no, in all {len(rush)} passes" if failed == 0
                   else f"CHECK FAILED in {failed} of {len(rush)} passes")
        unsold = len(rush) - len(times)
        if unsold:
            verdict += f" (not sold out in {unsold})"
        seats = median(r["seats_sold"] for r in rush)
        capacity = median(r["capacity"] for r in rush)
        print(f"{name:10} {transport:5} {median(times):10.3f} {spread:>15} "
              f"{median(r['orders_won'] for r in rush):5.0f} "
              f"{median(r['orders_refused'] for r in rush):7.0f} "
              f"{seats:5.0f} {median(r['seats_left'] for r in rush):4.0f} "
              f"{sum(r['errors'] for r in rush):6}  {verdict} "
              f"({capacity:.0f}-seat showtime)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
