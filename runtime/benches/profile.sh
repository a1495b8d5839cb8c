#!/usr/bin/env bash
# Flame graphs of where wasmpod spends its time, for the benchmark report (issue 6):
#   p3  — one pod under `wrk -c16` (the per-request path: loopback TCP, hyper, the hand-off
#         to the instance, the guest);
#   p1  — the restart benchmark (liveness trip → new instance → first 200).
# Needs perf (linux-perf) and wrk; builds inferno into target/bench-tools once.
# Usage: runtime/benches/profile.sh [p3|p1]...   (default: both). Output: docs/bench/*.svg
set -euo pipefail
cd "$(dirname "$0")/../.."
tools=target/bench-tools
[ -x "$tools/bin/inferno-flamegraph" ] || cargo install --locked inferno --root "$tools"
cargo build --release -p wasmpod --bin wasmpod
cargo bench -p wasmpod --bench report --no-run
report=$(ls -t target/release/deps/report-* | grep -v '\.d$' | head -1)
mkdir -p docs/bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flame() { # $1 = perf data, $2 = output name, $3 = title
  perf script -i "$1" 2>/dev/null | "$tools/bin/inferno-collapse-perf" \
    | "$tools/bin/inferno-flamegraph" --title "$3" --width 1400 > "docs/bench/$2.svg"
  echo "docs/bench/$2.svg"
}

for what in "${@:-p3 p1}"; do
  case $what in
  p3)
    home=$work/home-p3
    mkdir -p "$home"
    WASMPOD_HOME=$home perf record -F 2999 -g -o "$work/p3.data" \
      target/release/wasmpod run examples/health1.yaml >/dev/null 2>&1 &
    for _ in $(seq 100); do [ -s "$home/run/api-server" ] && break; sleep 0.1; done
    api=$(cat "$home/run/api-server")
    ip=""
    for _ in $(seq 100); do
      ip=$(curl -s "$api/api/v1/namespaces/default/pods/health1" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"].get("podIP",""))' || true)
      [ -n "$ip" ] && curl -s -o /dev/null "http://$ip:8080/" && break
      sleep 0.1
    done
    wrk -t2 -c16 -d5s "http://$ip:8080/" | grep Requests/sec
    # The run exits after health1's grace period; perf writes its data when it does.
    pkill -INT -f "target/release/wasmpod run examples/health1.yaml" || true
    wait
    flame "$work/p3.data" p3-one-pod-wrk-16-connections "wasmpod: one pod under wrk -c16"
    ;;
  p1)
    WASMPOD_BENCH_ONLY=p1 WASMPOD_BENCH_RESTARTS=30 perf record -F 2999 -g -o "$work/p1.data" \
      "$report" >/dev/null
    flame "$work/p1.data" p1-restarts "wasmpod: 30 liveness restarts (P1)"
    ;;
  esac
done
