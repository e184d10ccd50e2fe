#!/bin/sh
# Configuration files are input from outside: every mistake is reported as
# "file:line: setting: reason", all of them at once, and the program does
# not start.  A correct file is taken as the command line would be.
set -u
BUILD=${BUILD:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/mtascope-config.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

# expect NAME STATUS PATTERN... : the last run's status and stderr lines
expect() {
	name=$1 want=$2
	shift 2
	if [ "$status" -ne "$want" ]; then
		echo "FAIL $name: exit $status, expected $want"
		fail=$((fail + 1))
		return
	fi
	for pat in "$@"; do
		if ! grep -qF -- "$pat" "$work/err"; then
			echo "FAIL $name: no line \"$pat\" in:"
			sed 's/^/    /' "$work/err"
			fail=$((fail + 1))
			return
		fi
	done
	pass=$((pass + 1))
}

cat >"$work/pipe.conf" <<'CONF'
# a pipe configuration with three mistakes
collector tcp://127.0.0.1:1
bogus 1
spool-cap 12
fsync sometimes
CONF
"$BUILD/mtascope-pipe" -c "$work/pipe.conf" </dev/null 2>"$work/err"
status=$?
expect "pipe config" 1 "pipe.conf:3: bogus: unknown setting" \
    "pipe.conf:4: spool-cap:" "pipe.conf:5: fsync:" "not started"

cat >"$work/good.conf" <<'CONF'
summary yes
host mta99
session-gap 5
CONF
printf 'type,timeLogged\nd,1700000000\n' |
    "$BUILD/mtascope-pipe" -c "$work/good.conf" >"$work/out" 2>"$work/err"
status=$?
if [ "$status" -eq 0 ] && grep -q '^records=1 d=1 ' "$work/out"; then
	pass=$((pass + 1))
else
	echo "FAIL good pipe config: exit $status: $(cat "$work/out" "$work/err")"
	fail=$((fail + 1))
fi

"$BUILD/mtascope-pipe" --summary --host 'bad host' </dev/null 2>"$work/err"
status=$?
expect "host name" 2 "--host bad host: host names are"

cat >"$work/col.conf" <<'CONF'
db DBPATH
listen
contexts 0
retention-days 7
what ever
CONF
sed -i "s|DBPATH|$work/db|" "$work/col.conf"
"$BUILD/mtascoped" -c "$work/col.conf" 2>"$work/err"
status=$?
expect "collector config" 1 "col.conf:2: listen: missing value" \
    "col.conf:3: contexts:" "col.conf:4: retention-days:" \
    "col.conf:5: what: unknown setting" "not started"

cat >"$work/isp.conf" <<'CONF'
google domain
foo bar x.com
BAD! domain a.com
CONF
"$BUILD/mtascoped" --db "$work/db" --isp-table "$work/isp.conf" 2>"$work/err"
status=$?
expect "isp table" 1 'isp.conf:1: no domain names for "google"' \
    'isp.conf:2: expected "domain" or "mx" after "foo"' \
    'isp.conf:3: ISP name "BAD!"'

"$BUILD/mtascoped" -c "$work/missing.conf" 2>"$work/err"
status=$?
expect "missing file" 1 "missing.conf: No such file or directory"

echo "config_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
