#!/usr/bin/env bash
# GET /results over a store of a million participants and ten million events
# (PRODUCT.md §8 / issue #10: it reads counters, target <= 20 ms). The server
# is pinned to CPU 0, wrk (one connection) to CPU 1. Run it twice to see both
# analyses:
#
#     bash benches/results_at_scale.sh
#     SPLITCAST__EXPERIMENTS__HOMEPAGE_CTA__ANALYSIS=fixed \
#     SPLITCAST__EXPERIMENTS__HOMEPAGE_CTA__SAMPLE_SIZE=600000 bash benches/results_at_scale.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
cargo build --release --bin splitcast
BIN="$ROOT/target/release/splitcast"
W=$(mktemp -d "${TMPDIR:-/tmp}/splitcast-results.XXXXXX")
trap 'pkill -f "config $W/c.toml" || true; rm -rf "$W"' EXIT
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|^port = 8080|port = $P|" -e "s|^workers = 0 |workers = 1 |" \
    -e "s|^url = \"sqlite://\.\./data/splitcast.db\"|url = \"sqlite://$W/s.db\"|" \
    -e "s|^static_dir = \"static\"|static_dir = \"$ROOT/static\"|" config/default.toml >"$W/c.toml"
grep -qF "sqlite://$W/s.db" "$W/c.toml" || { echo "config/default.toml changed shape" >&2; exit 1; }
start() {
    (cd "$W" && RUST_LOG=warn taskset -c 0 "$BIN" --config "$W/c.toml" >"$W/log" 2>&1 &)
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$P/healthz" && return; sleep 0.1; done
    echo "the server did not come up" >&2; exit 1
}
stop() { pkill -f "config $W/c.toml" || true; sleep 0.5; }
start # creates and migrates the database
stop
python3 benches/seed_large_store.py "$W/s.db"
start
for _ in 1 2 3; do
    curl -s -o /dev/null -w "GET /results: %{time_total} s\n" "http://127.0.0.1:$P/results"
done
taskset -c 1 wrk -t1 -c1 -d5s --latency "http://127.0.0.1:$P/results" | grep -E "Requests/sec|50%|99%"
