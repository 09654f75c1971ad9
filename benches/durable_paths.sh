#!/usr/bin/env bash
# The durable paths alone, for A/B runs of two builds: new visitors, then
# conversions of one returning visitor, then single-event webhook conversions
# of new users; splitcast pinned to CPU 0, wrk to CPU 1, a fresh database per
# run: SQLite in a temporary directory (STORE=sqlite, the default) or
# PostgreSQL (STORE=postgres; BENCH_PG, default the local server).
#
#     BIN=target/release/splitcast bash benches/durable_paths.sh
#     STORE=postgres BIN=/other/build/splitcast CONFIG=/other/build/config/default.toml bash benches/durable_paths.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/splitcast}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
case ${STORE:-sqlite} in
sqlite) URL=sqlite://$W/splitcast.db ;;
postgres)
    DB=pgmix_$$
    psql "${BENCH_PG:-postgres://postgres@127.0.0.1:5432}/postgres" -qtAc "CREATE DATABASE $DB" >/dev/null
    URL=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}/$DB ;;
*) echo "STORE is sqlite or postgres" >&2; exit 1 ;;
esac
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|port = 8080|port = $PORT|" -e "s|workers = 0|workers = 1|" -e "s|sqlite://\.\./data/splitcast.db|$URL|" \
  -e '/^\[ingest\]/,/^\[/ s|^token = ""|token = "bench-ingest-token"|' \
  -e 's|^secret_key = ""|secret_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="|' ${CONFIG:-$ROOT/config/default.toml} > $W/c.toml
cat > $W/hook.lua <<'LUA'
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench-ingest-token"
wrk.headers["Content-Type"] = "application/json"
function request()
    n = n + 1
    return wrk.format(nil, nil, nil, '{"user_id":"u' .. n .. '-' .. math.random(1e9) .. '","variant":"A"}')
end
LUA
printf 'wrk.method = "POST"\n' > $W/post.lua
(cd "$ROOT" && RUST_LOG=warn exec taskset -c 0 $BIN --config $W/c.toml serve > $W/log 2>&1) &
PID=$!
for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$PORT/healthz && break; sleep 0.1; done
COOKIE=$(curl -s -A 'Mozilla/5.0' -D - -o /dev/null http://127.0.0.1:$PORT/get_content | awk -F': ' 'tolower($1)=="set-cookie"{split($2,a,";"); print a[1]}')
curl -s -o /dev/null -A 'Mozilla/5.0' -H "Cookie: $COOKIE" -X POST http://127.0.0.1:$PORT/track_conversion
run() { local label=$1; shift; taskset -c 1 wrk -t1 -c32 -d3s "$@" >/dev/null; printf '%-6s ' $label; taskset -c 1 wrk -t1 -c32 -d${DUR:-6s} --latency "$@" | awk '/Requests\/sec/{r=$2} $1=="99%"{p=$2} END{print r, "p99", p}'; }
run new http://127.0.0.1:$PORT/get_content -H "User-Agent: Mozilla/5.0"
run conv http://127.0.0.1:$PORT/track_conversion -s $W/post.lua -H "Cookie: $COOKIE" -H "User-Agent: Mozilla/5.0"
run hook -s $W/hook.lua http://127.0.0.1:$PORT/webhook
kill $PID; wait $PID 2>/dev/null || true
if [ -n "${DB:-}" ]; then
    psql "${BENCH_PG:-postgres://postgres@127.0.0.1:5432}/postgres" -qtAc "DROP DATABASE $DB" >/dev/null 2>&1 || true
fi
