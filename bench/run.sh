#!/usr/bin/env bash
# Load benchmark: builds the release binary, starts `steward serve` on each
# database engine in turn, seeds a project with work packages and members,
# drives the API with wrk and prints requests per second, latency
# percentiles, error counts and the server's peak memory, and the time to
# export the personal data of the heavy user bench1 (`steward gdpr export`),
# and finally erase bench1 through the API while wrk measures the
# work-package list, to show whether the erasure holds up requests.
# It measures; it does not pass or fail.
#
# Usage: bench/run.sh
#
# Scale mode: a large data set, seeded once and kept for later runs, e.g.
#   BENCH_WORK_PACKAGES=1000000 BENCH_USERS=10000 BENCH_DATA_DIR=/work/bench-data bench/run.sh
# With BENCH_DATA_DIR set, each engine's seeded data set is kept there
# (SQLite: a data directory; PostgreSQL: a database steward_bench_<size>),
# named by its size, and seeded only if it is not there yet; every run
# measures a copy of it (the erasure changes the data). Either way the
# script prints the seed time (or the one recorded when the kept data set
# was seeded) and the database size on disk (SQLite file and WAL;
# PostgreSQL pg_database_size) before measuring. Above 10,000 work
# packages the erasure window follows the erasure (see BENCH_ERASE_WINDOW).
#
# Tunables (environment):
#   BENCH_ENGINES      engines to try, default "sqlite postgres" (postgres is
#                      skipped when no server answers)
#   BENCH_PORT         port for the server under test, default 18080
#   BENCH_DURATION     wrk duration per endpoint, default 15s
#   BENCH_WARMUP       discarded warm-up run per endpoint, default 2s ("0" = none)
#   BENCH_THREADS      wrk threads, default 2
#   BENCH_CONNECTIONS  wrk connections, default 8
#   BENCH_MANY_CONNECTIONS  connections for the list measured under many
#                      clients at once, default 512
#   BENCH_ERASE_WINDOW wrk duration around the erasure of bench1, default 4s;
#                      "auto" (the default above 10,000 work packages):
#                      from 0.5 s before the erasure to 0.5 s after it ends
#                      (the server's handler timeout is then an hour)
#   BENCH_USERS        users bench1.., members of the benchmark project, default 20
#   BENCH_WORK_PACKAGES  work packages (3 journals each), default 10000
#   BENCH_HEAVY_AUTHOR   of which authored by bench1, default 2000
#   BENCH_PROJECTS     projects the work packages are spread over, default 1
#                      (bench1 is a member of all, every other user of two)
#   BENCH_DATA_DIR     keep seeded data sets here for later runs (see above);
#                      default: seed afresh in a temporary directory
#   BENCH_PG_HOST / BENCH_PG_PORT / BENCH_PG_USER
#                      PostgreSQL server, default 127.0.0.1 / 5432 / postgres
#                      (the database steward_bench is dropped and re-created)
#   BENCH_NO_BUILD     set to 1 to measure the binary already built
#   CARGO_TARGET_DIR   where cargo builds, as usual
#
# To measure another endpoint, add a `measure` line to run_endpoints below:
#   measure NAME METHOD PATH [BODY]
# BODY, if given, is sent as JSON (through a wrk Lua script).
# Raw wrk output and server logs go to bench/out/<timestamp>/.

set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

engines="${BENCH_ENGINES:-sqlite postgres}"
port="${BENCH_PORT:-18080}"
duration="${BENCH_DURATION:-15s}"
warmup="${BENCH_WARMUP:-2s}"
threads="${BENCH_THREADS:-2}"
connections="${BENCH_CONNECTIONS:-8}"
many_connections="${BENCH_MANY_CONNECTIONS:-512}"
seed_users="${BENCH_USERS:-20}"
work_packages="${BENCH_WORK_PACKAGES:-10000}"
heavy_author="${BENCH_HEAVY_AUTHOR:-2000}"
projects="${BENCH_PROJECTS:-1}"
data_dir="${BENCH_DATA_DIR:-}"
# At the default size the erasure takes well under a second; at a million
# work packages it takes longer than any fixed window one would pick.
if [ "$work_packages" -gt 10000 ]; then
    erase_window="${BENCH_ERASE_WINDOW:-auto}"
else
    erase_window="${BENCH_ERASE_WINDOW:-4s}"
fi
pg_host="${BENCH_PG_HOST:-127.0.0.1}"
pg_port="${BENCH_PG_PORT:-5432}"
pg_user="${BENCH_PG_USER:-postgres}"
pg_db="steward_bench"
admin_password="bench admin password"
base_url="http://127.0.0.1:${port}"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
bin="$target_dir/release/steward"

out="$root/bench/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
scratch="$(mktemp -d /tmp/steward-bench.XXXXXX)"
server_pid=""
results=()
seed_results=()

say() { printf '\n==> %s\n' "$*"; }
die() {
    printf 'bench: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        sleep 1
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root to run: $*"
    fi
}

# --- tools -------------------------------------------------------------------

ensure_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v curl >/dev/null || missing+=(curl)
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

build() {
    if [ "${BENCH_NO_BUILD:-0}" = 1 ]; then
        [ -x "$bin" ] || die "BENCH_NO_BUILD=1 but there is no binary at $bin"
        say "using the existing binary $bin"
        return 0
    fi
    say "building the release binary ($bin)"
    nice -n 10 cargo build --release --locked -p steward
    [ -x "$bin" ] || die "no binary at $bin after the build"
}

# --- the server under test ---------------------------------------------------

# Runs the steward binary with the environment of the current engine.
steward_env=()
steward() {
    env -u STEWARD_CONFIG "${steward_env[@]}" "$bin" "$@"
}

port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

postgres_reachable() {
    command -v psql >/dev/null &&
        psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -w -qAtc 'SELECT 1' >/dev/null 2>&1
}

pg_admin() {
    psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -w -v ON_ERROR_STOP=1 -qAt "$@"
}

# fresh_postgres_db NAME [TEMPLATE]: drops NAME and creates it, empty or
# as a copy of TEMPLATE.
fresh_postgres_db() {
    pg_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
    if [ -n "${2:-}" ]; then
        pg_admin -c "CREATE DATABASE $1 TEMPLATE $2"
    else
        pg_admin -c "CREATE DATABASE $1"
    fi
}

# The environment of the server under test and of the CLI next to it:
# data directory $1, and on PostgreSQL database $2.
use_database() {
    steward_env=(
        "STEWARD_DATA_DIR=$1"
        "STEWARD_SERVER_LISTEN=127.0.0.1:$port"
        "STEWARD_ADMIN_PASSWORD=$admin_password"
        "STEWARD_LOG_LEVEL=warn"
    )
    if [ "$engine" = postgres ]; then
        steward_env+=("STEWARD_DATABASE_URL=postgres://$pg_user@$pg_host:$pg_port/$2")
    fi
    # At a million work packages the erasure of bench1 outlasts the
    # default handler timeout (60 s), which would cancel it.
    if [ "$erase_window" = auto ]; then
        steward_env+=("STEWARD_SERVER_HANDLER_TIMEOUT_SECONDS=3600")
    fi
}

start_server() {
    local engine="$1"
    port_is_free || die "port $port is taken; set BENCH_PORT"
    # Started directly (not through the steward function) so that $! is the server's own pid.
    env -u STEWARD_CONFIG "${steward_env[@]}" "$bin" serve >"$out/server-$engine.log" 2>&1 &
    server_pid=$!
    local i code
    for i in $(seq 1 300); do
        code="$(curl -s -o "$scratch/health.json" -w '%{http_code}' "$base_url/health" 2>/dev/null || true)"
        if [ "$code" = 200 ]; then
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || {
            cat "$out/server-$engine.log" >&2
            die "the server exited during start-up"
        }
        sleep 0.1
    done
    if [ -n "$code" ] && [ "$code" != 000 ]; then
        # The server answers but reports itself unhealthy: say so and measure anyway.
        printf 'bench: WARNING: /health answers %s: %s\n' "$code" "$(cat "$scratch/health.json")" >&2
        return 0
    fi
    die "the server did not answer /health within 30 s"
}

stop_server() {
    kill -TERM "$server_pid"
    local i
    for i in $(seq 1 400); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    local status=0
    if kill -0 "$server_pid" 2>/dev/null; then
        printf 'bench: the server ignored SIGTERM for 40 s; killing it\n' >&2
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
        return 1
    fi
    wait "$server_pid" || status=$?
    server_pid=""
    if [ "$status" -eq 0 ]; then
        echo "server stopped cleanly on SIGTERM"
    else
        printf 'bench: the server exited with status %s after SIGTERM\n' "$status" >&2
        return 1
    fi
}

peak_rss_mib() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status" 2>/dev/null || echo "?"
}

# Seeds the data set of the current environment (steward_env) with
# `steward seed benchmark`; its output goes to $1.
seed_into() {
    say "$engine: seeding $work_packages work packages in $projects project(s), $seed_users users, 3 journals each"
    steward migrate >/dev/null
    steward seed benchmark --work-packages "$work_packages" --users "$seed_users" \
        --heavy-author "$heavy_author" --projects "$projects" >"$1.part"
    mv "$1.part" "$1"
}

# Bytes the database takes on disk: the SQLite file with its WAL, or
# PostgreSQL's pg_database_size.
database_bytes() {
    if [ "$engine" = sqlite ]; then
        local f total=0
        for f in "$1/steward.sqlite3" "$1/steward.sqlite3-wal"; do
            [ -f "$f" ] && total=$((total + $(stat -c %s "$f")))
        done
        echo "$total"
    else
        pg_admin -c "SELECT pg_database_size('$2')"
    fi
}

# The data set of the run, in $scratch/$engine-data (and database $pg_db
# on PostgreSQL): seeded afresh, or copied from the one kept in
# BENCH_DATA_DIR (seeded there first if it is not there yet). Leaves the
# seed's output in $out/seed-$engine.txt and sets the administrator's
# password.
prepare_data() {
    local work="$scratch/$engine-data" seeded="$out/seed-$engine.txt"
    mkdir -p "$work"
    if [ -z "$data_dir" ]; then
        [ "$engine" = postgres ] && fresh_postgres_db "$pg_db"
        use_database "$work" "$pg_db"
        seed_into "$seeded"
        cat "$seeded"
    else
        local tag="${work_packages}wp_${seed_users}u_${projects}p_${heavy_author}h"
        local kept="$data_dir/$engine-$tag" kept_db="steward_bench_$tag"
        mkdir -p "$kept"
        if [ ! -f "$kept/seed.txt" ]; then
            [ "$engine" = postgres ] && fresh_postgres_db "$kept_db"
            use_database "$kept" "$kept_db"
            seed_into "$kept/seed.txt"
            cat "$kept/seed.txt"
            printf '%s: kept in %s\n' "$engine" "$([ "$engine" = sqlite ] && echo "$kept" || echo "database $kept_db")"
        else
            say "$engine: using the data set kept in $kept (seeded earlier):"
            cat "$kept/seed.txt"
        fi
        local kept_bytes
        kept_bytes="$(database_bytes "$kept" "$kept_db")"
        say "$engine: copying it for this run"
        if [ "$engine" = sqlite ]; then
            cp "$kept"/steward.sqlite3* "$work"/
        else
            fresh_postgres_db "$pg_db" "$kept_db"
        fi
        cp "$kept/seed.txt" "$seeded"
    fi
    use_database "$work" "$pg_db"
    printf '%s\n' "$admin_password" | steward user set-password admin --password-stdin >/dev/null
    local seconds bytes
    seconds="$(sed -n 's/.* in \([0-9.]*\) s\..*/\1/p' "$seeded")"
    bytes="$(database_bytes "$work" "$pg_db")"
    printf '%-8s seed %s s; database on disk %s bytes (%s MiB)\n' "$engine" "${seconds:-?}" "$bytes" \
        "$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')"
    seed_results+=("$engine|$work_packages|$seed_users|$projects|${seconds:-?}|$bytes")
}

# The API tokens and the project the measurements use.
tokens() {
    project_id="$(sed -n 's/.*(id \([0-9]*\)).*/\1/p' "$out/seed-$engine.txt")"
    [ -n "$project_id" ] || die "the seed did not say which project it made"
    token="$(steward user token admin --name bench | tail -n 1)"
    member_token="$(steward user token bench2 --name bench | tail -n 1)"
    member_auth="Basic $(printf 'apikey:%s' "$member_token" | base64 -w0)"
    [ -n "$token" ] || die "no API token"
    auth="Basic $(printf 'apikey:%s' "$token" | base64 -w0)"
    curl -fsS -H "Authorization: $auth" "$base_url/api/v3/users/me" >/dev/null ||
        die "the API token does not authenticate"
}

# --- measuring ---------------------------------------------------------------

# wrk prints latencies as 812.00us, 1.20ms or 1.01s; this gives milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.2f", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else { printf "?" }
    }'
}

# CPU time in clock ticks: the whole machine busy, and given processes.
machine_busy_ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
process_ticks() {
    local total=0 pid t
    for pid in "$@"; do
        # Fields after the command name, which may contain spaces: utime is
        # the 12th, stime the 13th.
        t="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')" || t=0
        total=$((total + ${t:-0}))
    done
    echo "$total"
}
# The PostgreSQL backends serving the benchmark database (none on SQLite).
backend_pids() {
    [ "$engine" = postgres ] || return 0
    psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -w -qAtc \
        "SELECT pid FROM pg_stat_activity WHERE datname = '$pg_db' AND pid <> pg_backend_pid()" 2>/dev/null || true
}

# A browser session of the administrator for the page measurements: the
# sign-in form's CSRF token and cookie, then the session cookie it sets.
sign_in_browser() {
    local jar="$scratch/cookies-$engine.txt" form csrf
    rm -f "$jar"
    form="$(curl -fsS -c "$jar" "$base_url/login")" || die "GET /login failed"
    csrf="$(printf '%s' "$form" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)"
    [ -n "$csrf" ] || die "the sign-in page has no CSRF token"
    curl -fsS -o /dev/null -b "$jar" -c "$jar" \
        --data-urlencode "csrf_token=$csrf" --data-urlencode "login=admin" \
        --data-urlencode "password=$admin_password" "$base_url/login" || die "signing in failed"
    session_cookie="$(awk '$6 == "steward_session" { print $6 "=" $7 }' "$jar")"
    [ -n "$session_cookie" ] || die "signing in set no session cookie"
}

# measure NAME METHOD PATH [BODY]   (as the administrator; AS=member for
# bench2, AS=browser for the administrator's browser session; CONNS=N for
# N connections instead of BENCH_CONNECTIONS)
measure() {
    local name="$1" method="$2" path="$3" body="${4:-}"
    local who="Authorization: $auth"
    [ "${AS:-admin}" = member ] && who="Authorization: $member_auth"
    [ "${AS:-admin}" = browser ] && who="Cookie: $session_cookie"
    local args=(-t"$threads" -c"${CONNS:-$connections}" --latency -H "$who")
    if [ "$method" != GET ] || [ -n "$body" ]; then
        local lua="$scratch/$name.lua"
        {
            printf 'wrk.method = "%s"\n' "$method"
            if [ -n "$body" ]; then
                printf 'wrk.body = [==[%s]==]\n' "$body"
                printf 'wrk.headers["Content-Type"] = "application/json"\n'
            fi
        } >"$lua"
        args+=(-s "$lua")
    fi
    if [ "$warmup" != 0 ]; then
        wrk "${args[@]}" -d"$warmup" "$base_url$path" >/dev/null
    fi
    local raw="$out/wrk-$engine-$name.txt"
    # Measure what else the machine did meanwhile: CPU used by processes other
    # than the server, its PostgreSQL backends and wrk, in % of one core.
    # Anything well above a few % means the numbers are skewed.
    local hz backends busy0 own0 t0 busy1 own1 t1 wrk_ticks others
    hz="$(getconf CLK_TCK)"
    # shellcheck disable=SC2046
    backends=($(backend_pids))
    busy0="$(machine_busy_ticks)"
    own0="$(process_ticks "$server_pid" "${backends[@]}")"
    t0="$(date +%s.%N)"
    local TIMEFORMAT='%3U %3S'
    { time wrk "${args[@]}" -d"$duration" "$base_url$path" >"$raw"; } 2>"$scratch/wrk.time"
    t1="$(date +%s.%N)"
    busy1="$(machine_busy_ticks)"
    own1="$(process_ticks "$server_pid" "${backends[@]}")"
    wrk_ticks="$(awk -v hz="$hz" '{ printf "%.0f", ($1 + $2) * hz }' "$scratch/wrk.time")"
    others="$(awk -v b=$((busy1 - busy0)) -v o=$((own1 - own0)) -v w="$wrk_ticks" \
        -v t0="$t0" -v t1="$t1" -v hz="$hz" \
        'BEGIN { x = (b - o - w) / ((t1 - t0) * hz) * 100; if (x < 0) x = 0; printf "%.0f", x }')"
    local rps p50 p99 non2xx sockerr
    rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")"
    p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw")")"
    p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw")")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$raw")"
    sockerr="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$raw")"
    local rss
    rss="$(peak_rss_mib)"
    printf '%-8s %-10s %10s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  socket errors %s  peak RSS %s MiB  other CPU %s%%\n' \
        "$engine" "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "${sockerr:-0}" "$rss" "$others"
    results+=("$engine|$name|$method $path|$rps|$p50|$p99|${non2xx:-0}|${sockerr:-0}|$rss|$others%")
}

# The endpoints measured on every engine.
run_endpoints() {
    measure me GET /api/v3/users/me
    measure users GET "/api/v3/users?pageSize=25"
    measure wp_list GET "/api/v3/work_packages?pageSize=25"
    # The same list with many clients at once: throughput, tail latency and
    # the memory the open connections take.
    CONNS="$many_connections" measure "wp_list_c$many_connections" GET "/api/v3/work_packages?pageSize=25"
    AS=member measure wp_list_member GET "/api/v3/work_packages?pageSize=25"
    measure wp_one GET /api/v3/work_packages/1
    # Search through the text index: two words of the seed's texts (every
    # word must occur), and a typeahead prefix, each a page of 25.
    measure wp_search GET "/api/v3/work_packages?pageSize=25&filters=%5B%7B%22search%22%3A%7B%22operator%22%3A%22**%22%2C%22values%22%3A%5B%22invoice%20timesheet%22%5D%7D%7D%5D"
    measure wp_typeahead GET "/api/v3/work_packages?pageSize=25&filters=%5B%7B%22typeahead%22%3A%7B%22operator%22%3A%22**%22%2C%22values%22%3A%5B%22dashb%22%5D%7D%7D%5D"
    measure wp_create POST /api/v3/work_packages \
        "{\"subject\":\"Created under load\",\"_links\":{\"project\":{\"href\":\"/api/v3/projects/$project_id\"}}}"
    # The web UI's pages, rendered for a signed-in browser.
    sign_in_browser
    AS=browser measure page_home GET /
    AS=browser measure page_wp_list GET "/projects/$project_id/work_packages"
    AS=browser measure page_wp_one GET /work_packages/1
    AS=browser measure page_search GET "/search?q=invoice%20report"
}

# The per-person export of the heavy user bench1 (author of the first
# $heavy_author work packages, with their journals): `steward gdpr export`,
# run three times; prints the time the export itself took (as the command
# reports it) and the wall time of the whole command (process start,
# database connection and migration check included).
export_results=()
seed_results=()
measure_export() {
    local i file log took wall t0 size
    for i in 1 2 3; do
        file="$scratch/export-$engine-$i.tar.gz"
        log="$out/export-$engine-$i.txt"
        t0="$(date +%s.%N)"
        steward gdpr export bench1 --output "$file" >"$log" 2>&1 ||
            die "exporting bench1 failed: $(tail -n 1 "$log")"
        wall="$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.3f", t1 - t0 }')"
        took="$(awk '$1 == "took:" { print $2 }' "$log")"
        size="$(awk '$1 == "size:" { print $2 }' "$log")"
        printf '%-8s export bench1 run %s: %s s (command %s s), archive %s bytes\n' \
            "$engine" "$i" "$took" "$wall" "$size"
        export_results+=("$engine|$i|$took|$wall|$size")
        rm -f "$file"
    done
}

# The erasure of bench1 through the API (`POST /api/v3/gdpr/erasures`,
# as an administrator asks for it): everything in one transaction with the
# residue scan inside it, the request log scrubbed before it. Meanwhile wrk
# measures the work-package list for $erase_window (the erasure starts
# 0.5 s in), to be read next to the list at rest: the erasure's scans must
# not hold the workers that serve requests. Prints the list's req/s, p50,
# p99 and slowest answer during the erasure, the time the certificate
# records (request to commit), the wall time of the request, the rows
# scrubbed and the scan result. Run last: it changes the data set.
erase_results=()
seed_results=()
measure_erase() {
    local log raw wrk_pid t0 wall took rows clean rps p50 p99 max at_rest r
    log="$out/erase-$engine.json"
    raw="$out/wrk-$engine-wp_list_erasing.txt"
    # "auto": wrk runs until 0.5 s after the erasure answered (stopped with
    # SIGINT, on which it reports what it measured), at most an hour.
    local window="$erase_window"
    [ "$window" = auto ] && window=3600s
    wrk -t"$threads" -c"$connections" --latency -H "Authorization: $auth" -d"$window" \
        "$base_url/api/v3/work_packages?pageSize=25" >"$raw" &
    wrk_pid=$!
    sleep 0.5
    t0="$(date +%s.%N)"
    curl -fsS --max-time 3600 -H "Authorization: $auth" -H 'Content-Type: application/json' \
        -d '{"user": "bench1"}' "$base_url/api/v3/gdpr/erasures" >"$log" ||
        die "erasing bench1 failed"
    wall="$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.3f", t1 - t0 }')"
    if [ "$erase_window" = auto ]; then
        sleep 0.5
        kill -INT "$wrk_pid"
    fi
    wait "$wrk_pid"
    local cert='import json,sys; c=json.load(open(sys.argv[1]))["certificate"]; g=lambda a,b: c[a] if a in c else c[b]'
    took="$(python3 -c "$cert"'; print("%.3f" % (g("duration_ms","durationMs") / 1000))' "$log")"
    rows="$(python3 -c "$cert"'; print(g("rows_scrubbed","rowsScrubbed"))' "$log")"
    clean="$(python3 -c "$cert"'; print(c["scan"]["clean"])' "$log")"
    rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")"
    p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw")")"
    p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw")")"
    max="$(to_ms "$(awk '$1 == "Latency" { print $4 }' "$raw")")"
    at_rest="?"
    for r in "${results[@]}"; do
        IFS='|' read -r -a f <<<"$r"
        [ "${f[0]}" = "$engine" ] && [ "${f[1]}" = wp_list ] && at_rest="${f[5]}"
    done
    printf '%-8s erase bench1: %s s (request %s s), %s rows scrubbed, scan clean: %s\n' \
        "$engine" "$took" "$wall" "$rows" "$clean"
    printf '%-8s wp_list during the erasure: %s req/s  p50 %s ms  p99 %s ms (at rest %s ms)  max %s ms\n' \
        "$engine" "$rps" "$p50" "$p99" "$at_rest" "$max"
    erase_results+=("$engine|$took|$wall|$rows|$clean|$rps|$p50|$p99|$at_rest|$max")
}

# --- main --------------------------------------------------------------------

ensure_tools
build

for engine in $engines; do
    case "$engine" in
    sqlite) ;;
    postgres)
        if ! postgres_reachable; then
            say "postgres: no server answers at $pg_host:$pg_port as $pg_user; skipped"
            continue
        fi
        ;;
    *) die "unknown engine $engine (use sqlite or postgres)" ;;
    esac
    prepare_data
    say "$engine: starting the server on $base_url"
    start_server "$engine"
    tokens
    say "$engine: exporting the personal data of bench1 ($heavy_author work packages authored)"
    measure_export
    say "$engine: wrk -t$threads -c$connections -d$duration"
    run_endpoints
    say "$engine: erasing bench1 through the API while wrk measures the work-package list"
    measure_erase
    stop_server
done

say "results ($(nproc) cores, wrk -t$threads -c$connections -d$duration; raw output in ${out#"$root"/})"
row='%-9s %-15s %-36s %9s %8s %8s %8s %14s %13s %10s\n'
# shellcheck disable=SC2059
printf "$row" engine name request req/s "p50 ms" "p99 ms" non-2xx "socket errors" "peak RSS MiB" "other CPU"
for r in "${results[@]}"; do
    IFS='|' read -r -a f <<<"$r"
    # shellcheck disable=SC2059
    printf "$row" "${f[@]}"
done

say "data sets (seed time as steward seed benchmark reports it)"
printf '%-9s %14s %8s %9s %10s %16s\n' engine "work packages" users projects "seed s" "bytes on disk"
for r in "${seed_results[@]}"; do
    IFS='|' read -r -a f <<<"$r"
    printf '%-9s %14s %8s %9s %10s %16s\n' "${f[@]}"
done

say "per-person export of bench1 (steward gdpr export; seconds)"
printf '%-9s %4s %10s %12s %14s\n' engine run export command "archive bytes"
for r in "${export_results[@]}"; do
    IFS='|' read -r -a f <<<"$r"
    printf '%-9s %4s %10s %12s %14s\n' "${f[@]}"
done

say "erasure of bench1 through the API, and the work-package list meanwhile (wrk -c$connections, window $erase_window)"
row='%-9s %9s %9s %14s %11s %10s %10s %10s %15s %10s\n'
# shellcheck disable=SC2059
printf "$row" engine "erase s" "request s" "rows scrubbed" "scan clean" "list req/s" "p50 ms" "p99 ms" "p99 at rest ms" "max ms"
for r in "${erase_results[@]}"; do
    IFS='|' read -r -a f <<<"$r"
    # shellcheck disable=SC2059
    printf "$row" "${f[@]}"
done
