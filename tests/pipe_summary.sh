#!/bin/sh
# mtascope-pipe --summary against the simulator's own record of what it
# wrote.  With --clean-sessions every count must match exactly, sessions
# included; in the realistic mode (parallel connections per IP pair, which
# no inference can separate) every record count must still match, and the
# inferred sessions can only be fewer than the true ones.
set -eu
BUILD=${BUILD:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/mtascope-summary.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
checks=0

"$BUILD/mtascope-sim" --hosts 3 --days 3 --rate 15000 --seed 11 \
    --clean-sessions --out "$work/clean" \
    --deferral-trend microsoft:3:7:2 --session-collapse google:8:1
for csv in "$work"/clean/mta*.csv; do
	host=$(basename "$csv" .csv)
	got=$("$BUILD/mtascope-pipe" --summary --host "$host" <"$csv")
	want=$(cat "$work/clean/$host.summary")
	checks=$((checks + 1))
	if [ "$got" != "$want" ]; then
		echo "FAIL clean $host: got  $got"
		echo "                 want $want"
		fail=$((fail + 1))
	fi
done

# Any session gap must see the same records; G=0 and G=5 change only
# how sessions are cut.
csv="$work/clean/mta01.csv"
for g in 0 5; do
	got=$("$BUILD/mtascope-pipe" --summary --session-gap "$g" <"$csv" |
	    sed 's/ sessions=.*//')
	want=$(sed 's/ sessions=.*//' "$work/clean/mta01.summary")
	checks=$((checks + 1))
	if [ "$got" != "$want" ]; then
		echo "FAIL gap $g: got $got want $want"
		fail=$((fail + 1))
	fi
done

"$BUILD/mtascope-sim" --hosts 2 --days 2 --rate 15000 --seed 12 \
    --out "$work/real"
for csv in "$work"/real/mta*.csv; do
	host=$(basename "$csv" .csv)
	got=$("$BUILD/mtascope-pipe" --summary <"$csv")
	want=$(cat "$work/real/$host.summary")
	checks=$((checks + 2))
	if [ "${got% sessions=*}" != "${want% sessions=*}" ]; then
		echo "FAIL real $host: got  $got"
		echo "                want $want"
		fail=$((fail + 1))
	fi
	gs=$(echo "$got" | sed 's/.* sessions=\([0-9]*\) .*/\1/')
	ws=$(echo "$want" | sed 's/.* sessions=\([0-9]*\) .*/\1/')
	if [ "$gs" -gt "$ws" ] || [ "$gs" -eq 0 ]; then
		echo "FAIL real $host: $gs inferred sessions for $ws true ones"
		fail=$((fail + 1))
	fi
done

if [ "$fail" -ne 0 ]; then
	echo "pipe_summary: $((checks - fail)) passed, $fail failed"
	exit 1
fi
echo "pipe_summary: $checks passed, 0 failed"
