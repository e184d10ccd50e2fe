#!/bin/sh
# mtascope report and trend against the simulator's truth.
#
# The database is built by the real pipeline: mtascope-sim writes the
# fleet's accounting streams and truth.csv, mtascope-pipe sends each host's
# stream to a mtascoped on a loopback port.  Two simulations go into the one
# database, on dates far enough apart that their review windows do not
# meet: ten November days with a Microsoft deferral ramp and a Google
# session collapse, and three December days in which one host falls silent
# on the last day (plus one hand-written gap row, the only record of drops).
# A third, hand-made database puts pairs of ISPs on either side of every
# significance threshold.  tests/report_check.py recomputes every expected
# number from truth.csv; this script checks exit codes and the 80-column
# limit.
set -eu
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mtascope-report.XXXXXX")
cpid=
cleanup() {
	if [ -n "$cpid" ]; then
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() {
	echo "report_test: $pass passed, $fail failed"
	if [ "$fail" -ne 0 ]; then
		exit 1
	fi
	exit 0
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# mtascoped on DB and a free port; the port can be taken between the
# probe and the bind, so try a few.
start_collector() {
	log="$1.log"
	for try in 1 2 3; do
		port=$(free_port)
		"$BUILD/mtascoped" --db "$1" --listen "tcp://127.0.0.1:$port" \
		    2>"$log" &
		cpid=$!
		i=0
		while [ $i -lt 150 ]; do
			if grep -qs "listening on" "$log"; then
				return 0
			fi
			kill -0 "$cpid" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
		cpid=
	done
	cat "$log"
	return 1
}

stop_collector() {
	kill "$cpid"
	wait "$cpid" || true
	cpid=
}

feed() {	# DIR: every host's stream through its own pipe
	for csv in "$1"/mta*.csv; do
		host=$(basename "$csv" .csv)
		if ! "$BUILD/mtascope-pipe" --collector "tcp://127.0.0.1:$port" \
		    --spool "$work/spool-$(basename "$1")-$host" --host "$host" \
		    --drain-timeout 30 <"$csv" 2>"$work/pipe-$host.log"; then
			cat "$work/pipe-$host.log"
			return 1
		fi
	done
}

if ! "$BUILD/mtascope-sim" --hosts 3 --days 10 --rate 8000 --seed 3 \
    --start 2026-11-01 --clean-sessions --out "$work/nov" \
    --deferral-trend microsoft:3:7:7 --session-collapse google:8:2 ||
    ! "$BUILD/mtascope-sim" --hosts 3 --days 3 --rate 3000 --seed 5 \
    --start 2026-12-01 --clean-sessions --out "$work/dec" \
    --silent-host mta03:1; then
	bad "mtascope-sim failed"
	finish
fi
if ! start_collector "$work/db.sqlite"; then
	bad "mtascoped did not start"
	finish
fi
if ! feed "$work/nov" || ! feed "$work/dec"; then
	bad "mtascope-pipe did not deliver"
	finish
fi
stop_collector
# Hand-made rollups on each side of the significance thresholds; the
# collector builds its aggregate tables from them when it opens the copy.
if ! python3 "$here/report_check.py" synth "$work/db.sqlite" \
    "$work/synth" || ! start_collector "$work/synth/db.sqlite"; then
	bad "mtascoped did not open the hand-made database"
	finish
fi
stop_collector
# Drops reach the database only as gap rows: one, in December's last day.
if ! python3 - "$work/db.sqlite" <<'EOF'
import calendar, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
hour = calendar.timegm((2026, 12, 3, 5, 0, 0)) // 3600
db.execute("INSERT INTO gaps(host, hour, dropped, reason) VALUES"
           " ('mta02', ?, 17, 'spool full')", (hour,))
db.commit()
EOF
then
	bad "could not add the gap row"
	finish
fi

# Every output the checker reads: NAME, the subcommand, its options.
out="$work/out"
mkdir "$out"
DB="$work/db.sqlite"
run() {
	name=$1
	sub=$2
	shift 2
	rc=0
	"$BUILD/mtascope" "$sub" --db "$DB" "$@" >"$out/$name" \
	    2>"$out/$name.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "mtascope $sub $* exited $rc: $(cat "$out/$name.err")"
	elif grep -q "runtime error\|Sanitizer" "$out/$name.err"; then
		bad "mtascope $sub $*: $(cat "$out/$name.err")"
	else
		ok
	fi
}
run report.json report --day 2026-11-10 --json
run report.txt report --day 2026-11-10
run google_host.json report --day 2026-11-10 --isp google --by host --json
run google_host.txt report --day 2026-11-10 --isp google --by host
run ms_ip.json report --day 2026-11-10 --isp microsoft --by source-ip --json
run ms_ip.txt report --day 2026-11-10 --isp microsoft --by source-ip
run yahoo.json report --day 2026-11-10 --isp yahoo --json
run dec.json report --day 2026-12-03 --json
run dec.txt report --day 2026-12-03
run dec_host.json report --day 2026-12-03 --isp google --by host --json
run dec_host.txt report --day 2026-12-03 --isp google --by host
run nodata.txt report --day 2026-11-20
run nodata.json report --day 2026-11-20 --json
run trend.txt trend --isp microsoft --days 10 --to 2026-11-11
run trend_google.txt trend --isp google --days 12 --to 2026-11-12
run trend_hourly.txt trend --isp microsoft --days 10 --to 2026-11-11 --hourly
DB="$work/synth/db.sqlite"
run synth.json report --day 2027-01-10 --json
run synth.txt report --day 2027-01-10
# A database file the collector never wrote to: no tables at all.
DB="$work/empty.sqlite"
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).close()' "$DB"
run empty.txt report --day 2026-11-10
run empty.json report --day 2026-11-10 --json

# Usage errors are refused with status 2, and print nothing on stdout.
for args in "--by host" "--isp google --by dc" "--day 2026-13-01" \
    "--day yesterday" "extra"; do
	rc=0
	# shellcheck disable=SC2086
	"$BUILD/mtascope" report --db "$work/db.sqlite" $args \
	    >"$work/usage.out" 2>/dev/null || rc=$?
	if [ "$rc" -eq 2 ] && [ ! -s "$work/usage.out" ]; then ok; else
		bad "report $args: exit $rc, want 2"
	fi
done
for args in "--days 10" "--isp google --days 0" "--isp google --to 11/11"; do
	rc=0
	# shellcheck disable=SC2086
	"$BUILD/mtascope" trend --db "$work/db.sqlite" $args \
	    >"$work/usage.out" 2>/dev/null || rc=$?
	if [ "$rc" -eq 2 ]; then ok; else
		bad "trend $args: exit $rc, want 2"
	fi
done

# 80 columns, no tabs, no trailing blanks, for every text output.
for f in "$out"/*.txt; do
	long=$(awk 'length($0) > 80 || /\t/ || / $/' "$f")
	if [ -z "$long" ]; then ok; else
		bad "$(basename "$f") wider than 80 columns or ragged:"
		echo "$long" | head -5
	fi
done

# The checker prints "ok ..." or "FAIL ..." (with indented details).
pyrc=0
checks=$(python3 "$here/report_check.py" "$work/nov" "$work/dec" \
    "$work/synth" "$out" 2>&1) || pyrc=$?
echo "$checks" | grep -v '^ok ' || true
n=$(echo "$checks" | grep -c '^ok ') || true
m=$(echo "$checks" | grep -c '^FAIL ') || true
pass=$((pass + n))
fail=$((fail + m))
if [ "$pyrc" -ne 0 ] || [ "$n" -lt 40 ]; then
	bad "report_check.py exited $pyrc after $n checks"
fi
finish
