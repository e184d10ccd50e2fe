#!/bin/sh
# Integration tests: real mtascope-pipe, mtascoped and mtascope processes
# over loopback, checked against the simulator's ground truth.  The
# binaries come from $BUILD (default build/), so `make script-tests` runs
# this once for the optimized build and once for the sanitizer build.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
# No __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1
exec python3 -m unittest discover -s tests/integration -p 'test_*.py' -v
