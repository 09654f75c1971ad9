#!/usr/bin/env bash
# splitcast benchmarks (PRODUCT.md §8): throughput and latency against a bare
# actix-web baseline measured in the same run, p99 with a hanging notifier,
# and memory with a notifier down. Writes target/bench-results.md.
#
#     bash benches/run.sh
#
# Knobs (environment): WORKERS (server workers, each server the same; default 1
# so wrk has the other core), THREADS, CONNS, DURATION, WARMUP (wrk), MEM_EVENTS,
# SERVER_CPU and LOAD_CPU (taskset: every server, with all its threads — HTTP
# worker, writer, delivery tasks — runs on SERVER_CPU, wrk on LOAD_CPU).
set -euo pipefail

WORKERS=${WORKERS:-1}
THREADS=${THREADS:-1}
CONNS=${CONNS:-32}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
MEM_EVENTS=${MEM_EVENTS:-200000}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
UA='Mozilla/5.0'
INGEST_TOKEN='bench-ingest-token'
# base64 of the bytes 0..63: a fixed 64-byte session key.
SESSION_KEY='AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=='

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# Our configs only: no SPLITCAST__* override from the caller's environment.
for var in $(compgen -e | grep '^SPLITCAST' || true); do unset "$var"; done

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq wrk
fi
for tool in curl python3 wrk taskset; do
    command -v "$tool" >/dev/null || die "$tool is required"
done

log "building (release)"
cargo build --release --examples --bin splitcast
BIN="$ROOT/target/release"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/splitcast-bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# forget PID...: ended, no longer to be killed on exit.
forget() {
    local pid keep=()
    for pid in "${PIDS[@]}"; do
        [[ " $* " == *" $pid "* ]] || keep+=("$pid")
    done
    PIDS=("${keep[@]}")
}
# stop PID...: SIGTERM (splitcast drains in-flight requests), wait, forget.
stop() {
    local pid
    kill "$@" 2>/dev/null || true
    for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
    forget "$@"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL: until it answers (any HTTP status), at most 30 s.
wait_http() {
    for _ in $(seq 300); do
        if curl -s -o /dev/null -A "$UA" "$1"; then return 0; fi
        sleep 0.1
    done
    die "$1 did not come up"
}

LAST_PID=
start_bare() { # NAME PORT [ARGS...]
    local name=$1 port=$2
    shift 2
    taskset -c "$SERVER_CPU" "$BIN/examples/$name" "$port" "$WORKERS" "$@" >"$WORK/$name.$port.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    wait_http "http://127.0.0.1:$port/get_content"
}

# make_config NAME PORT [TOML appended]: config/default.toml with the port,
# workers, the fixed session key, storage in its own temp dir, the ingest
# token, an absolute static_dir; the `console` log notifier stays.
make_config() {
    local dir="$WORK/$1"
    mkdir -p "$dir"
    sed -e "s|^port = 8080|port = $2|" \
        -e "s|^workers = 0 |workers = $WORKERS |" \
        -e "s|^static_dir = \"static\"|static_dir = \"$ROOT/static\"|" \
        -e "s|^secret_key = \"\" |secret_key = \"$SESSION_KEY\" |" \
        -e "s|^url = \"sqlite://\.\./data/splitcast.db\"|url = \"sqlite://$dir/splitcast.db\"|" \
        -e "/^\[ingest\]/,/^\[/ s|^token = \"\" |token = \"$INGEST_TOKEN\" |" \
        config/default.toml >"$dir/config.toml"
    printf '%s\n' "${3:-}" >>"$dir/config.toml"
    for want in "port = $2" "workers = $WORKERS " "$SESSION_KEY" "sqlite://$dir/" "$INGEST_TOKEN" "$ROOT/static"; do
        grep -qF "$want" "$dir/config.toml" ||
            die "config/default.toml changed shape: cannot set '$want' in the bench config"
    done
    (cd "$dir" && "$BIN/splitcast" --config "$dir/config.toml" check-config >/dev/null) ||
        die "bench config $1 is invalid"
}

start_splitcast() { # NAME PORT [TOML] [sed script applied to the config]
    make_config "$1" "$2" "${3:-}"
    if [ -n "${4:-}" ]; then sed -i -e "$4" "$WORK/$1/config.toml"; fi
    (cd "$WORK/$1" && exec env RUST_LOG=warn taskset -c "$SERVER_CPU" "$BIN/splitcast" --config "$WORK/$1/config.toml" serve) \
        >"$WORK/$1/server.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    wait_http "http://127.0.0.1:$2/healthz"
}

# cookie_of URL: the session cookie (name=value) a browser gets from GET URL.
cookie_of() {
    local jar="$WORK/jar.$RANDOM"
    curl -sf -o /dev/null -A "$UA" -c "$jar" "$1" || die "GET $1 failed"
    awk '$6 == "splitcast" { print $6 "=" $7 }' "$jar"
}

# ---------------------------------------------------------------- wrk
cat >"$WORK/post.lua" <<'EOF'
wrk.method = "POST"
EOF
# One single-event POST /webhook per request, each a conversion of a distinct
# user: a new participant, a conversion and one outbox row per notifier.
# Args: a run-unique prefix, then (optional) the number of responses to stop at.
cat >"$WORK/webhook.lua" <<EOF
local threads, prefix, n, limit, seen, marker = 0, "u", 0, 0, 0, nil
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
function init(args)
    prefix = (args[1] or "u") .. "-" .. tostring(tid) .. "-"
    limit = tonumber(args[2] or "0")
    marker = args[3]
end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $INGEST_TOKEN"
wrk.headers["Content-Type"] = "application/json"
function request()
    n = n + 1
    return wrk.format(nil, nil, nil, '{"user_id":"' .. prefix .. n .. '","variant":"A"}')
end
EOF
cp "$WORK/webhook.lua" "$WORK/webhook_count.lua"
cat >>"$WORK/webhook_count.lua" <<'EOF'
-- Args 2 and 3: stop after this many responses and create the file
-- "<arg 3>.<thread>" (wrk itself runs until -d or SIGINT).
function response(status, headers, body)
    seen = seen + 1
    if limit > 0 and seen == limit then
        io.open(marker .. "." .. tostring(tid), "w"):close()
        wrk.thread:stop()
    end
end
EOF

# to_ms "1.23ms" -> 1.23
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else { sub(/s$/, "", v); printf "%.3f", v * 1000 } }'
}

# measure LABEL URL [wrk args...]: warm-up, then one measured run. Sets
# RPS, P50, P99 (ms), BAD (non-2xx/3xx + socket errors) and records them.
declare -A R_RPS R_P50 R_P99 R_BAD
measure() {
    local label=$1 url=$2
    shift 2
    # The URL first: wrk takes what follows `--` as script arguments.
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" "$@" >/dev/null
    local out="$WORK/wrk.$label.txt"
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" "$@" >"$out"
    RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    BAD=$(awk '/Non-2xx or 3xx responses:/ { n += $NF }
               /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
               END { print n + 0 }' "$out")
    R_RPS[$label]=$RPS R_P50[$label]=$P50 R_P99[$label]=$P99 R_BAD[$label]=$BAD
    log "$(printf '%-28s %10s req/s  p50 %8s ms  p99 %8s ms  errors %s' "$label" "$RPS" "$P50" "$P99" "$BAD")"
}

count_rows() { # DB [WHERE]
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from outbox " + sys.argv[2]).fetchone()[0])' \
        "$1" "${2:-}" 2>/dev/null || echo "?"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- a-d
log "throughput: $WORKERS worker(s) per server, wrk -t$THREADS -c$CONNS -d$DURATION (warm-up $WARMUP)"
P_JSON=$(free_port)
start_bare bare_json "$P_JSON"
PID_JSON=$LAST_PID
P_SESS=$(free_port)
start_bare bare_session "$P_SESS"
PID_SESS=$LAST_PID
# The least a durable answer costs here: a bare handler that answers after
# its row is committed (SQLite, splitcast's settings) or appended and
# fdatasync'ed (a plain file), with the simplest group commit.
mkdir -p "$WORK/durable_sqlite" "$WORK/durable_file"
P_DSQL=$(free_port)
start_bare bare_durable "$P_DSQL" "$WORK/durable_sqlite" sqlite
PID_DSQL=$LAST_PID
P_DFILE=$(free_port)
start_bare bare_durable "$P_DFILE" "$WORK/durable_file" file
PID_DFILE=$LAST_PID
P_MAIN=$(free_port)
start_splitcast main "$P_MAIN"
PID_MAIN=$LAST_PID

SESS_COOKIE=$(cookie_of "http://127.0.0.1:$P_SESS/get_content")
MAIN_COOKIE=$(cookie_of "http://127.0.0.1:$P_MAIN/get_content")
if [ -z "$SESS_COOKIE" ] || [ -z "$MAIN_COOKIE" ]; then die "no session cookie"; fi
curl -sf -o /dev/null -A "$UA" -H "Cookie: $MAIN_COOKIE" -X POST \
    "http://127.0.0.1:$P_MAIN/track_conversion" || die "track_conversion failed"

measure bare_json_1 "http://127.0.0.1:$P_JSON/get_content"
measure bare_session_1 "http://127.0.0.1:$P_SESS/get_content" -H "Cookie: $SESS_COOKIE" -H "User-Agent: $UA"
measure durable_sqlite "http://127.0.0.1:$P_DSQL/get_content"
measure durable_file "http://127.0.0.1:$P_DFILE/get_content"
stop "$PID_DSQL" "$PID_DFILE"
measure returning "http://127.0.0.1:$P_MAIN/get_content" -H "Cookie: $MAIN_COOKIE" -H "User-Agent: $UA"
measure new_visitor "http://127.0.0.1:$P_MAIN/get_content" -H "User-Agent: $UA"
measure track_conversion "http://127.0.0.1:$P_MAIN/track_conversion" -s "$WORK/post.lua" \
    -H "Cookie: $MAIN_COOKIE" -H "User-Agent: $UA"
measure webhook_conversion "http://127.0.0.1:$P_MAIN/webhook" -s "$WORK/webhook.lua" -- main
# How fast the log notifier (rate unlimited) delivers the backlog just made.
DRAIN_0=$(count_rows "$WORK/main/splitcast.db" "where notifier = 'console'")
sleep 5
DRAIN_1=$(count_rows "$WORK/main/splitcast.db" "where notifier = 'console'")
DRAIN_RATE=$(((DRAIN_0 - DRAIN_1) / 5))
log "log notifier backlog $DRAIN_0 rows, delivering $DRAIN_RATE rows/s"
PEAK_MAIN=$(peak_kb "$PID_MAIN")
stop "$PID_MAIN"

# The same durable paths on PostgreSQL (BENCH_PG, default the local server),
# in a database of their own, between the two baseline runs.
BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PG_DB="splitcast_bench_$$"
if psql "$BENCH_PG/postgres" -qtAc "CREATE DATABASE $PG_DB" >/dev/null 2>&1; then
    P_PG=$(free_port)
    make_config pg "$P_PG"
    sed -i "s|^url = \"sqlite://$WORK/pg/splitcast.db\"|url = \"$BENCH_PG/$PG_DB\"|" "$WORK/pg/config.toml"
    grep -qF "$BENCH_PG/$PG_DB" "$WORK/pg/config.toml" || die "cannot point the bench config at PostgreSQL"
    (cd "$WORK/pg" && exec env RUST_LOG=warn taskset -c "$SERVER_CPU" "$BIN/splitcast" --config "$WORK/pg/config.toml" serve) \
        >"$WORK/pg/server.log" 2>&1 &
    PID_PG=$!
    PIDS+=("$PID_PG")
    wait_http "http://127.0.0.1:$P_PG/healthz"
    PG_COOKIE=$(cookie_of "http://127.0.0.1:$P_PG/get_content")
    curl -sf -o /dev/null -A "$UA" -H "Cookie: $PG_COOKIE" -X POST \
        "http://127.0.0.1:$P_PG/track_conversion" || die "track_conversion failed on PostgreSQL"
    measure pg_new_visitor "http://127.0.0.1:$P_PG/get_content" -H "User-Agent: $UA"
    measure pg_track_conversion "http://127.0.0.1:$P_PG/track_conversion" -s "$WORK/post.lua" \
        -H "Cookie: $PG_COOKIE" -H "User-Agent: $UA"
    measure pg_webhook_conversion "http://127.0.0.1:$P_PG/webhook" -s "$WORK/webhook.lua" -- pg
    stop "$PID_PG"
    psql "$BENCH_PG/postgres" -qtAc "DROP DATABASE $PG_DB" >/dev/null 2>&1 || true
else
    log "PostgreSQL at $BENCH_PG is not reachable: its rows are left out"
    for label in pg_new_visitor pg_track_conversion pg_webhook_conversion; do
        R_RPS[$label]=0 R_P50[$label]=- R_P99[$label]=- R_BAD[$label]=-
    done
fi
measure bare_json_2 "http://127.0.0.1:$P_JSON/get_content"
measure bare_session_2 "http://127.0.0.1:$P_SESS/get_content" -H "Cookie: $SESS_COOKIE" -H "User-Agent: $UA"
stop "$PID_JSON" "$PID_SESS"

avg() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a + b) / 2 }'; }
# mean_of LABEL: LABEL from the runs LABEL_1 and LABEL_2 (errors summed).
mean_of() {
    R_RPS[$1]=$(avg "${R_RPS[${1}_1]}" "${R_RPS[${1}_2]}")
    R_P50[$1]=$(avg "${R_P50[${1}_1]}" "${R_P50[${1}_2]}")
    R_P99[$1]=$(avg "${R_P99[${1}_1]}" "${R_P99[${1}_2]}")
    R_BAD[$1]=$((R_BAD[${1}_1] + R_BAD[${1}_2]))
}
mean_of bare_json
mean_of bare_session

# ---------------------------------------------------------------- e
# A server that accepts connections and never answers.
log "hanging notifier: bliphq at a port that accepts and never answers, conversion = \"immediate\""
python3 -u -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(1024)
print(s.getsockname()[1])
held = []
while True:
    held.append(s.accept()[0])
' >"$WORK/hang.port" &
PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/hang.port" ] && break; sleep 0.1; done
HANG_PORT=$(cat "$WORK/hang.port")
[ -n "$HANG_PORT" ] || die "hang server did not start"
# And one that answers every request at once with 200 (a healthy BlipHQ).
python3 -u -c '
import http.server
class Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
print(s.server_address[1])
s.serve_forever()
' >"$WORK/ok.port" &
PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/ok.port" ] && break; sleep 0.1; done
OK_PORT=$(cat "$WORK/ok.port")
[ -n "$OK_PORT" ] || die "answering server did not start"

HANG_TOML="
[notifiers.hang]
kind = \"bliphq\"
url = \"http://127.0.0.1:$HANG_PORT/api/notify\"
api_key = \"bench\""
OK_TOML=${HANG_TOML/$HANG_PORT/$OK_PORT}
# Three configurations: the log notifier only (calm), plus a bliphq notifier
# that answers (ok) or hangs (hang). Interleaved, calm and ok before and
# after hang; each a fresh instance (empty database and outbox) alone on the
# machine, so that no instance's log notifier drains its backlog during
# another's run.
for run in calm_1 ok_1 hang ok_2 calm_2; do
    port=$(free_port)
    case $run in
    hang) start_splitcast "$run" "$port" "$HANG_TOML" ;;
    ok_*) start_splitcast "$run" "$port" "$OK_TOML" ;;
    *) start_splitcast "$run" "$port" ;;
    esac
    pid=$LAST_PID
    cookie=$(cookie_of "http://127.0.0.1:$port/get_content")
    # The first conversion is counted and notified (the hanging notifier is
    # then stuck on it); the measured repeats add no outbox rows.
    curl -sf -o /dev/null -A "$UA" -H "Cookie: $cookie" -X POST "http://127.0.0.1:$port/track_conversion" ||
        die "track_conversion failed"
    measure "conv_$run" "http://127.0.0.1:$port/track_conversion" -s "$WORK/post.lua" \
        -H "Cookie: $cookie" -H "User-Agent: $UA"
    # Every request a new conversion: the hanging notifier's rows pile up.
    measure "hook_$run" "http://127.0.0.1:$port/webhook" -s "$WORK/webhook.lua" -- "$run"
    if [ "$run" = hang ]; then
        HANG_ROWS=$(count_rows "$WORK/hang/splitcast.db" "where notifier = 'hang'")
    fi
    stop "$pid"
done
for label in conv_calm hook_calm conv_ok hook_ok; do mean_of "$label"; done

# ---------------------------------------------------------------- f
log "memory: $MEM_EVENTS single-event POST /webhook conversions of distinct users, the only notifier down (closed port)"
DOWN_PORT=$(free_port) # nothing listens there: connection refused
DOWN_TOML="
[notifiers.down]
kind = \"bliphq\"
url = \"http://127.0.0.1:$DOWN_PORT/api/notify\"
api_key = \"bench\""
P_MEM=$(free_port)
# Only `down` is notified (console disabled), so each request adds exactly
# one outbox row.
start_splitcast memory "$P_MEM" "$DOWN_TOML" '/^\[notifiers.console\]/a enabled = false'
PID_MEM=$LAST_PID

outbox_rows() { count_rows "$WORK/memory/splitcast.db"; }
MEM_TABLE="| requests answered (wrk) | VmRSS (MiB) | outbox rows |
|---:|---:|---:|"
mem_row() { # EVENTS
    local kb
    kb=$(rss_kb "$PID_MEM")
    MEM_RSS+=("$kb")
    MEM_TABLE+="
| $1 | $(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }') | $(outbox_rows) |"
    log "memory: $1 events, VmRSS $kb kB"
}
MEM_RSS=()
mem_row 0
SENT=0
MEM_START=$(date +%s)
for target in $((MEM_EVENTS / 4)) $((MEM_EVENTS / 2)) "$MEM_EVENTS"; do
    out="$WORK/wrk.mem.$target.txt"
    rm -f "$WORK"/mem.done.*
    wrk -t"$THREADS" -c"$CONNS" -d3600s -s "$WORK/webhook_count.lua" "http://127.0.0.1:$P_MEM/webhook" \
        -- "mem$target" $(((target - SENT + THREADS - 1) / THREADS)) "$WORK/mem.done" >"$out" &
    WRK_PID=$!
    PIDS+=("$WRK_PID")
    while kill -0 "$WRK_PID" 2>/dev/null &&
        [ "$(find "$WORK" -maxdepth 1 -name 'mem.done.*' | wc -l)" -lt "$THREADS" ]; do
        sleep 0.2
    done
    kill -INT "$WRK_PID" 2>/dev/null || true # wrk prints its summary on SIGINT
    wait "$WRK_PID" || true
    forget "$WRK_PID"
    SENT=$((SENT + $(awk '/requests in/ { print $1 }' "$out")))
    if grep -q 'Non-2xx' "$out"; then grep 'Non-2xx' "$out" >&2; fi
    mem_row "$SENT"
done
MEM_SECS=$(($(date +%s) - MEM_START))
DB_MB=$(du -sm "$WORK/memory" | cut -f1)
stop "$PID_MEM"
# Flat: the last sample within 10% (or 8 MiB) of the first loaded one.
MEM_FLAT=$(awk -v a="${MEM_RSS[1]}" -v b="${MEM_RSS[3]}" \
    'BEGIN { print (b - a <= a * 0.10 || b - a <= 8192) ? "yes" : "no" }')

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", 100 * a / b }'; }
pct_change() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", 100 * (b - a) / a }'; }
meets() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 >= t) ? "met" : "MISSED" }'; }
below() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 < t) ? "met" : "MISSED" }'; }
BASE=${R_RPS[bare_json]}
row() { # LABEL DESCRIPTION
    printf '| %s | %s | %s | %s | %s | %s |\n' "$2" "${R_RPS[$1]}" "${R_P50[$1]}" "${R_P99[$1]}" \
        "$(ratio "${R_RPS[$1]}" "$BASE")" "${R_BAD[$1]}"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
P_RET=$(pct "${R_RPS[returning]}" "$BASE")
P_NEW=$(pct "${R_RPS[new_visitor]}" "$BASE")
P_CONV=$(pct "${R_RPS[track_conversion]}" "$BASE")
P_FLOOR=$(pct "${R_RPS[durable_sqlite]}" "$BASE")
P_HOOK=$(pct "${R_RPS[webhook_conversion]}" "$BASE")
# The durable paths against the bare durable handler: what splitcast adds.
of_floor() { pct "${R_RPS[$1]}" "${R_RPS[durable_sqlite]}"; }
D_CONV=$(pct_change "${R_P99[conv_calm]}" "${R_P99[conv_hang]}")
D_HOOK=$(pct_change "${R_P99[hook_calm]}" "${R_P99[hook_hang]}")
D_CONV_OK=$(pct_change "${R_P99[conv_ok]}" "${R_P99[conv_hang]}")
D_HOOK_OK=$(pct_change "${R_P99[hook_ok]}" "${R_P99[hook_hang]}")
# The p99 bar is on an increase: a lower p99 with the notifier hanging is noise.
rise() { local v=${1%\%}; echo "${v#+}"; }

REPORT="$ROOT/target/bench-results.md"
{
    echo "# splitcast benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r);"
    echo "$WORKERS server worker(s) each, every server pinned to CPU $SERVER_CPU and wrk to CPU $LOAD_CPU (taskset);"
    echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency after a $WARMUP warm-up; splitcast's peak RSS over the throughput runs $(awk -v k="$PEAK_MAIN" 'BEGIN { printf "%.1f", k / 1024 }') MiB;"
    echo "load average before $LOAD_BEFORE, after $LOAD_AFTER. Baselines: mean of a run before and after the splitcast runs."
    echo
    echo "| scenario | req/s | p50 ms | p99 ms | vs bare JSON | errors |"
    echo "|---|---:|---:|---:|---:|---:|"
    row bare_json "bare actix-web JSON (baseline, mean)"
    row bare_json_1 "  bare JSON, run 1"
    row bare_json_2 "  bare JSON, run 2"
    row bare_session "bare actix-session cookie (mean)"
    row durable_sqlite "bare durable: row committed to SQLite (WAL, synchronous = FULL), group commit"
    row durable_file "bare durable: 64 bytes appended to a file and fdatasync, group commit"
    row returning "splitcast GET /get_content, returning visitor"
    row new_visitor "splitcast GET /get_content, new visitor (durable enrolment)"
    row track_conversion "splitcast POST /track_conversion (durable, repeat conversion)"
    row webhook_conversion "splitcast POST /webhook, one new conversion each (durable + outbox row)"
    row pg_new_visitor "PostgreSQL: GET /get_content, new visitor"
    row pg_track_conversion "PostgreSQL: POST /track_conversion"
    row pg_webhook_conversion "PostgreSQL: POST /webhook, one new conversion each"
    row conv_calm "track_conversion, log notifier only (mean of 2)"
    row conv_ok "track_conversion, + answering bliphq notifier (mean of 2)"
    row conv_hang "track_conversion, + hanging bliphq notifier"
    row hook_calm "webhook conversion, log notifier only (mean of 2)"
    row hook_ok "webhook conversion, + answering bliphq notifier (mean of 2)"
    row hook_hang "webhook conversion, + hanging bliphq notifier"
    echo
    echo "Against the bare durable SQLite handler (same run): new visitor $(of_floor new_visitor)%,"
    echo "track_conversion $(of_floor track_conversion)%, webhook conversion $(of_floor webhook_conversion)%."
    echo
    echo "After the webhook run the log notifier had $DRAIN_0 rows to deliver and delivered $DRAIN_RATE rows/s (idle server)."
    echo
    echo "Hanging notifier, p99 against log only / against the same bliphq notifier answering:"
    echo "track_conversion ${R_P99[conv_calm]} / ${R_P99[conv_ok]} -> ${R_P99[conv_hang]} ms ($D_CONV / $D_CONV_OK);"
    echo "webhook conversions ${R_P99[hook_calm]} / ${R_P99[hook_ok]} -> ${R_P99[hook_hang]} ms ($D_HOOK / $D_HOOK_OK);"
    echo "$HANG_ROWS rows waiting for the hanging notifier at the end."
    echo
    echo "Memory, the only notifier down (connection refused), one outbox row per request"
    echo "(single-event POST /webhook, each a new user's conversion); ${MEM_SECS}s; data dir ${DB_MB} MiB at the end:"
    echo
    echo "$MEM_TABLE"
    echo
    echo "| target (PRODUCT.md §8) | measured | verdict |"
    echo "|---|---:|---|"
    echo "| returning visitor ≥ 75% of bare JSON | $P_RET% | $(meets "$P_RET" 75) |"
    echo "| new visitors ≥ 55% | $P_NEW% | $(meets "$P_NEW" 55) |"
    echo "| (the bare durable SQLite handler itself, same bar) | $P_FLOOR% | $(meets "$P_FLOOR" 55) |"
    echo "| durable track_conversion ≥ 55% | $P_CONV% | $(meets "$P_CONV" 55) |"
    echo "| single-event webhook ≥ 40% | $P_HOOK% | $(meets "$P_HOOK" 40) |"
    for label in new_visitor track_conversion webhook_conversion pg_new_visitor pg_track_conversion pg_webhook_conversion; do
        if [ "${R_P99[$label]}" = - ]; then verdict="not measured"; else verdict=$(below "${R_P99[$label]}" 5.001); fi
        echo "| p99 of $label ≤ 5 ms (durable paths) | ${R_P99[$label]} ms | $verdict |"
    done
    echo "| hanging notifier: p99 rise < 20%, track_conversion, vs log only | $D_CONV | $(below "$(rise "$D_CONV")" 20) |"
    echo "| hanging notifier: p99 rise < 20%, track_conversion, vs bliphq answering | $D_CONV_OK | $(below "$(rise "$D_CONV_OK")" 20) |"
    echo "| hanging notifier: p99 rise < 20%, webhook conversions, vs log only | $D_HOOK | $(below "$(rise "$D_HOOK")" 20) |"
    echo "| hanging notifier: p99 rise < 20%, webhook conversions, vs bliphq answering | $D_HOOK_OK | $(below "$(rise "$D_HOOK_OK")" 20) |"
    echo "| memory flat with notifiers down | $(awk -v a="${MEM_RSS[1]}" -v b="${MEM_RSS[3]}" 'BEGIN { printf "%.1f -> %.1f MiB", a / 1024, b / 1024 }') | $([ "$MEM_FLAT" = yes ] && echo met || echo MISSED) |"
} >"$REPORT"
echo
cat "$REPORT"
echo
log "written to $REPORT"
