#!/bin/sh
# The threaded paths under ThreadSanitizer: a pipe spooling while the
# collector is down, the collector starting, two pipes delivering at once
# (reader, writer and sender threads; nng contexts, the commit thread and
# the housekeeping thread on the other side), a SIGHUP, a clean stop.
# Any race report fails it, and the totals must still equal the truth.
set -eu
BUILD=${BUILD:-build/tsan}
work=$(mktemp -d "${TMPDIR:-/tmp}/mtascope-tsan.XXXXXX")
col=""
cleanup() {
	[ -n "$col" ] && kill "$col" 2>/dev/null && wait "$col" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export TSAN_OPTIONS="log_path=$work/tsan exitcode=66"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="tcp://127.0.0.1:$port"

"$BUILD/mtascope-sim" --hosts 2 --days 1 --rate 20000 --clean-sessions \
    --start 2026-11-01 --out "$work/sim"
"$BUILD/mtascope-pipe" --collector "$url" --spool "$work/sp1" --host mta01 \
    --drain-timeout 0 <"$work/sim/mta01.csv" 2>"$work/pipe0.log" || true
"$BUILD/mtascoped" --db "$work/db" --listen "$url" 2>"$work/col.log" &
col=$!
i=0
until grep -q "listening on" "$work/col.log"; do
	i=$((i + 1)); [ "$i" -lt 200 ] || { cat "$work/col.log"; exit 1; }
	sleep 0.1
done
"$BUILD/mtascope-pipe" --collector "$url" --spool "$work/sp1" --host mta01 \
    --drain-timeout 60 </dev/null 2>"$work/pipe1.log" &
p1=$!
"$BUILD/mtascope-pipe" --collector "$url" --spool "$work/sp2" --host mta02 \
    --drain-timeout 60 <"$work/sim/mta02.csv" 2>"$work/pipe2.log" &
p2=$!
wait "$p1"
wait "$p2"
kill -HUP "$col"
sleep 1
kill "$col"
wait "$col"
col=""
"$BUILD/mtascope" export --db "$work/db" --from 2026-11-01 --to 2026-11-03 \
    --group isp,host,source_ip >"$work/export.csv"
if ! cmp -s "$work/export.csv" "$work/sim/truth.csv"; then
	echo "tsan smoke: the export differs from the truth"
	exit 1
fi
if ls "$work"/tsan.* >/dev/null 2>&1; then
	cat "$work"/tsan.*
	echo "tsan smoke: 0 passed, 1 failed"
	exit 1
fi
echo "tsan smoke: 1 passed, 0 failed"
