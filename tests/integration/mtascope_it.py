"""
Shared machinery for the integration tests: real mtascope-pipe, mtascoped
and mtascope processes talking over loopback, checked against the
simulator's ground truth (truth.csv, <host>.summary, <host>.sessions).

Expected values never come from the programs under test: they are read
from the simulator's truth files, aggregated here in Python, or counted by
hand from input the tests write themselves.

The binaries are taken from $BUILD (default "build", relative to the
repository root), so the same tests run against the optimized and the
sanitizer builds.  Every process started here is killed when its test
ends, whatever the outcome.

MTASCOPE_IT_KEEP=1 keeps every test's directory (logs, spool, database),
MTASCOPE_IT_KEEP=failed those of failed tests; MTASCOPE_IT_SLOW scales the
deadlines (default 3 for a build directory named *asan*, else 1).
"""

import csv
import datetime
import io
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(REPO, BUILD)

# Sanitizer builds run a few times slower: deadlines (never pacing) scale.
SLOW = float(os.environ.get("MTASCOPE_IT_SLOW",
                            "3" if "asan" in BUILD else "1"))

COUNTERS = ["delivered", "bounced", "deferred", "deferred_queue",
            "complaints", "remote_bounces", "sessions", "session_records",
            "bytes"]
# The counters that count records, one each (sessions and bytes do not).
RECORD_COUNTERS = ["delivered", "bounced", "deferred", "deferred_queue",
                   "complaints", "remote_bounces"]
GROUPS = {"isp": 1, "isp,host": 2, "isp,host,source_ip": 3}
SIM_START = "2026-11-01"
SESSION_GAP = 2


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.access(path, os.X_OK):
        # A missing program is a failure, never a skip: a suite that
        # skips everything would pass.
        raise AssertionError("%s not built (run make first)" % path)
    return path


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def tail(path, n=25):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no log %s)" % path
    return "\n".join(lines[-n:])


def wait_for(cond, timeout, what, interval=0.05):
    """Poll cond() until it returns a true value; fail after timeout s."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s"
                                 % (timeout * SLOW, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Processes


class Proc:
    """A child process whose stderr goes to a log file."""

    def __init__(self, case, name, argv, stdin=None, stdout=None):
        self.case = case
        self.name = name
        self.argv = argv
        case.seq += 1
        self.log = os.path.join(case.tmp, "%02d-%s.log" % (case.seq, name))
        self.logf = open(self.log, "wb")
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=stdout,
                                  stderr=self.logf, cwd=case.tmp)
        case.procs.append(self)

    @property
    def pid(self):
        return self.p.pid

    def running(self):
        return self.p.poll() is None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.p.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s (pid %d) still running after %.0f s\n"
                                 "--- %s\n%s" % (self.name, self.pid,
                                                 timeout * SLOW, self.log,
                                                 tail(self.log)))

    def reap(self):
        """Cleanup: whatever happened, the process must be gone."""
        try:
            if self.p.stdin is not None and not self.p.stdin.closed:
                try:
                    self.p.stdin.close()
                except OSError:
                    pass
            self.kill()
        finally:
            if self.p.stdout is not None:
                self.p.stdout.close()
            self.logf.close()


class Collector:
    """mtascoped on a loopback port; restartable on the same database."""

    def __init__(self, case, db, port=None, extra=()):
        self.case = case
        self.db = db
        self.port = port or free_port()
        self.url = "tcp://127.0.0.1:%d" % self.port
        self.extra = list(extra)
        self.proc = None
        self.starts = 0

    def start(self):
        assert self.proc is None or not self.proc.running()
        self.starts += 1
        self.proc = Proc(self.case, "mtascoped",
                         [binary("mtascoped"), "--db", self.db, "--listen",
                          self.url] + self.extra)
        # The port may still be held by a killed predecessor's sockets
        # for a moment; the log says when it is really listening.
        wait_for(lambda: self._ready(), 20,
                 "mtascoped to listen on %s:\n%s" % (self.url,
                                                     tail(self.proc.log)))
        return self

    def _ready(self):
        if not self.proc.running():
            raise AssertionError("mtascoped exited with %s:\n%s"
                                 % (self.proc.p.returncode,
                                    tail(self.proc.log)))
        with open(self.proc.log, "rb") as f:
            return b"listening on" in f.read()

    def kill(self):
        self.proc.kill()

    def stop(self):
        """SIGTERM; returns the exit status."""
        self.proc.signal(signal.SIGTERM)
        return self.proc.wait(30)

    def logs(self):
        """Every log of every start, concatenated."""
        out = []
        for p in self.case.procs:
            if p.name == "mtascoped":
                with open(p.log, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
        return "".join(out)


class Pipe:
    """mtascope-pipe with a writable stdin, as PowerMTA runs it."""

    def __init__(self, case, host, spool, collector_url, extra=()):
        self.host = host
        self.spool = spool
        self.proc = Proc(case, "pipe-" + host,
                         [binary("mtascope-pipe"), "--collector",
                          collector_url, "--spool", spool, "--host", host,
                          "--summary"] + list(extra),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.stalls = []

    def write(self, data, chunk=65536, pause=0.0, stop=None):
        """Write data in chunks, timing every write() call.  Returns
        the number of bytes written (fewer if stop got set)."""
        fd = self.proc.p.stdin.fileno()
        off = 0
        while off < len(data):
            if stop is not None and stop.is_set():
                break
            piece = data[off:off + chunk]
            t0 = time.monotonic()
            view = memoryview(piece)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            self.stalls.append(time.monotonic() - t0)
            off += len(piece)
            if pause:
                time.sleep(pause)
        return off

    def close_stdin(self):
        self.proc.p.stdin.close()

    def finish(self, timeout):
        """Close stdin if open, wait for the exit; returns (rc, stdout)."""
        if not self.proc.p.stdin.closed:
            self.proc.p.stdin.close()
        rc = self.proc.wait(timeout)
        out = self.proc.p.stdout.read().decode("utf-8", "replace")
        return rc, out

    def kill(self):
        self.proc.kill()


def feed_in_thread(pipe, data, **kw):
    """Write data to pipe from a thread; errors are kept for the test."""
    result = {"error": None, "written": 0}

    def run():
        try:
            result["written"] = pipe.write(data, **kw)
        except Exception as e:  # reported by the test, not lost
            result["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.result = result
    t.start()
    return t


# ---------------------------------------------------------------------------
# The simulator and its truth


class Sim:
    def __init__(self, case, hosts, days, rate, seed):
        self.dir = os.path.join(case.tmp, "sim")
        self.hosts = ["mta%02d" % (i + 1) for i in range(hosts)]
        r = subprocess.run([binary("mtascope-sim"), "--hosts", str(hosts),
                            "--days", str(days), "--rate", str(rate),
                            "--seed", str(seed), "--start", SIM_START,
                            "--clean-sessions", "--out", self.dir],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120 * SLOW)
        if r.returncode != 0:
            raise AssertionError("mtascope-sim failed: %s"
                                 % r.stderr.decode("utf-8", "replace"))

    def csv(self, host):
        with open(os.path.join(self.dir, host + ".csv"), "rb") as f:
            return f.read()

    def summary(self, host):
        with open(os.path.join(self.dir, host + ".summary")) as f:
            return f.read().strip()

    def sessions(self, host):
        """(source_ip, destination_ip, first, last, records) per session."""
        out = []
        with open(os.path.join(self.dir, host + ".sessions")) as f:
            for row in csv.reader(f):
                if row and row[0] != "source_ip":
                    out.append((row[0], row[1], int(row[2]), int(row[3]),
                                int(row[4])))
        return out

    def truth(self):
        return load_truth(os.path.join(self.dir, "truth.csv"))


def load_truth(path):
    """truth.csv as {(hour, isp, host, source_ip): [9 counters]}."""
    want = ["hour", "isp", "host", "source_ip"] + COUNTERS
    rows = {}
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        if header != want:
            raise AssertionError("truth.csv header %r, expected %r"
                                 % (header, want))
        for row in r:
            key = tuple(row[:4])
            if key in rows:
                raise AssertionError("truth.csv repeats %r" % (key,))
            rows[key] = [int(v) for v in row[4:]]
    return rows


def only_hosts(rows, hosts):
    """Rows of (hour, isp, host, source_ip) keys for the given hosts."""
    return {k: v for k, v in rows.items() if k[2] in hosts}


def aggregate(rows, group="isp,host,source_ip", by="hour"):
    """Sum (hour, isp, host, source_ip) rows the way export groups them."""
    n = GROUPS[group]
    out = {}
    for (hour, isp, host, src), vals in rows.items():
        t = hour[:10] if by == "day" else hour
        key = (t,) + (isp, host, src)[:n]
        acc = out.setdefault(key, [0] * len(COUNTERS))
        for i, v in enumerate(vals):
            acc[i] += v
    return {k: v for k, v in out.items() if any(v)}


def day_range(rows, margin=1):
    """--from/--to covering every row with a margin of days each side, so
    stray rows outside the truth's period would show up too."""
    days = sorted({k[0][:10] for k in rows})
    d0 = datetime.date.fromisoformat(days[0])
    d1 = datetime.date.fromisoformat(days[-1])
    return ((d0 - datetime.timedelta(days=margin)).isoformat(),
            (d1 + datetime.timedelta(days=1 + margin)).isoformat())


# ---------------------------------------------------------------------------
# The CLI


def run_cli(args, timeout=60):
    r = subprocess.run([binary("mtascope")] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout * SLOW)
    if r.returncode != 0:
        raise AssertionError("mtascope %s: exit %d: %s"
                             % (" ".join(args), r.returncode,
                                r.stderr.decode("utf-8", "replace")))
    return r.stdout.decode("utf-8")


def export(db, frm, to, group="isp,host,source_ip", by="hour"):
    """`mtascope export` as {(time, group...): [9 counters]}, checking
    the header, the order of rows and that no row is empty."""
    text = run_cli(["export", "--db", db, "--from", frm, "--to", to,
                    "--by", by, "--group", group])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    want = [by] + group.split(",") + COUNTERS
    if not rows or rows[0] != want:
        raise AssertionError("export header %r, expected %r"
                             % (rows[0] if rows else None, want))
    n = 1 + GROUPS[group]
    out = {}
    prev = None
    for row in rows[1:]:
        if len(row) != len(want):
            raise AssertionError("export row %r has %d cells, expected %d"
                                 % (row, len(row), len(want)))
        key = tuple(row[:n])
        vals = [int(v) for v in row[n:]]
        if key in out:
            raise AssertionError("export repeats %r" % (key,))
        if prev is not None and key < prev:
            raise AssertionError("export not sorted: %r after %r"
                                 % (key, prev))
        if not any(vals):
            raise AssertionError("export prints the empty row %r" % (row,))
        prev = key
        out[key] = vals
    return out


def wait_export(db, frm, to, want, timeout, what):
    """Poll export until it equals want; on timeout show the difference."""
    last = {}

    def same():
        last["rows"] = export(db, frm, to)
        return last["rows"] == want
    try:
        wait_for(same, timeout, what, interval=0.2)
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, diff_rows(last["rows"], want)))


def gaps(db):
    """`mtascope gaps` as {(hour, host): (dropped, reason)}."""
    text = run_cli(["gaps", "--db", db])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0] != ["hour", "host", "dropped", "reason"]:
        raise AssertionError("gaps header %r" % (rows[0] if rows else None))
    out = {}
    for row in rows[1:]:
        out[(row[0], row[1])] = (int(row[2]), row[3])
    return out


def hosts(db):
    text = run_cli(["hosts", "--db", db])
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return {r["host"]: r for r in rows}


def diff_rows(got, want, limit=12):
    """A readable difference of two {key: counters} maps, or ""."""
    lines = []
    for k in sorted(set(got) | set(want)):
        g, w = got.get(k), want.get(k)
        if g == w:
            continue
        if g is None:
            lines.append("missing  %s: want %s" % (",".join(k), w))
        elif w is None:
            lines.append("extra    %s: got  %s" % (",".join(k), g))
        else:
            d = ["%s %d!=%d" % (c, a, b)
                 for c, a, b in zip(COUNTERS, g, w) if a != b]
            lines.append("differs  %s: %s" % (",".join(k), " ".join(d)))
    if not lines:
        return ""
    tot_g = [sum(v[i] for v in got.values()) for i in range(len(COUNTERS))]
    tot_w = [sum(v[i] for v in want.values()) for i in range(len(COUNTERS))]
    head = ["%d rows differ (got %d rows, want %d)" % (len(lines), len(got),
                                                     len(want)),
            "totals got  " + " ".join("%s=%d" % x
                                      for x in zip(COUNTERS, tot_g)),
            "totals want " + " ".join("%s=%d" % x
                                      for x in zip(COUNTERS, tot_w))]
    return "\n".join(head + lines[:limit] +
                     (["..."] if len(lines) > limit else []))


# ---------------------------------------------------------------------------
# Accounting CSV


def ptime(s):
    """A PowerMTA time cell as UTC seconds, or None if empty."""
    s = s.strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    return int(datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S%z")
               .timestamp())


class CsvStream:
    """An accounting stream cut into records at the byte level (quoted
    cells may hold line breaks), with each record's type and time."""

    def __init__(self, data):
        self.data = data
        self.recs = []   # (start, end, kind, time); kind "header" or type
        header = None
        start = pos = 0
        inq = False
        n = len(data)
        while pos < n:
            nl = data.find(b"\n", pos)
            end = n if nl < 0 else nl + 1
            if data.count(b'"', pos, end) % 2:
                inq = not inq
            pos = end
            if inq and pos < n:
                continue
            inq = False
            text = data[start:pos].decode("latin-1")
            cells = next(csv.reader(io.StringIO(text, newline="")), [])
            if not cells or not "".join(cells).strip():
                kind, t = "blank", None
            elif cells[0] == "type":
                header = {name: i for i, name in enumerate(cells)}
                kind, t = "header", None
            else:
                if header is None:
                    raise AssertionError("record before any header")
                cell = (lambda name: cells[header[name]]
                        if name in header and header[name] < len(cells)
                        else "")
                kind = cells[0]
                t = ptime(cell("timeLogged"))
                if t is None:
                    t = ptime(cell("timeQueued"))
                if t is None:
                    raise AssertionError("record without a time at byte %d"
                                         % start)
            self.recs.append((start, pos, kind, t))
            start = pos

    def header_before(self, idx):
        """The bytes of the last header line before record idx."""
        for s, e, kind, _ in reversed(self.recs[:idx]):
            if kind == "header":
                return self.data[s:e]
        raise AssertionError("no header before record %d" % idx)

    def header_columns(self, idx):
        h = self.header_before(idx).decode("latin-1")
        return next(csv.reader(io.StringIO(h, newline="")))

    def without_types(self, types):
        """The stream minus the records of the given types."""
        return b"".join(self.data[s:e] for s, e, kind, _ in self.recs
                        if kind not in types)

    def count_by_hour(self, types):
        out = {}
        for _, _, kind, t in self.recs:
            if kind in types:
                h = hour_name(t // 3600)
                out[h] = out.get(h, 0) + 1
        return out

    def clean_cut(self, sessions, fraction=0.5):
        """An hour boundary where the stream can be split in two without
        changing any count: every record before it is logged before the
        hour and every record after it at or after, and no true session
        runs across it.  Returns (record index, hour number), the boundary
        nearest to `fraction` of the records."""
        data_recs = [(i, t) for i, (_, _, kind, t) in enumerate(self.recs)
                     if t is not None]
        best = None
        target = fraction * len(data_recs)
        # Largest time before each position, smallest from each on.
        maxbefore = []
        m = -1
        for _, t in data_recs:
            maxbefore.append(m)
            m = max(m, t)
        minfrom = [0] * len(data_recs)
        m = 1 << 62
        for j in range(len(data_recs) - 1, -1, -1):
            m = min(m, data_recs[j][1])
            minfrom[j] = m
        for j in range(1, len(data_recs)):
            b = data_recs[j][1] // 3600
            if data_recs[j - 1][1] // 3600 == b:
                continue
            if maxbefore[j] >= b * 3600 or minfrom[j] < b * 3600:
                continue
            if any(f < b * 3600 <= l for _, _, f, l, _ in sessions):
                continue
            if best is None or abs(j - target) < abs(best[0] - target):
                best = (j, b, data_recs[j][0])
        if best is None:
            raise AssertionError("no clean hour boundary in the stream")
        return best[2], best[1]

    def split(self, idx):
        """(bytes before record idx, header + bytes from record idx on)."""
        s = self.recs[idx][0]
        return self.data[:s], self.header_before(idx) + self.data[s:]

    def clock_record(self, idx, t):
        """An `r` (received) record at time t in the columns in force at
        record idx.  r records count per host only, never in a rollup,
        so it changes no exported number; it moves the pipe's stream
        clock past t, which closes every session that ended before
        t - G, as more traffic would."""
        cols = self.header_columns(idx)
        cells = [""] * len(cols)
        cells[cols.index("type")] = "r"
        cells[cols.index("timeLogged")] = str(t)
        return (",".join(cells) + "\n").encode()


def hour_name(h):
    return datetime.datetime.fromtimestamp(
        h * 3600, datetime.timezone.utc).strftime("%Y-%m-%dT%H:00:00Z")


def before_hour(rows, hour):
    """Rows of (hour, ...) keys logged before hour number `hour`."""
    name = hour_name(hour)
    return {k: v for k, v in rows.items() if k[0] < name}


def spool_bytes(spool):
    total = 0
    for root, _, files in os.walk(spool):
        for f in files:
            if f.startswith("seg-"):
                try:
                    total += os.path.getsize(os.path.join(root, f))
                except OSError:
                    pass
    return total


def spool_lanes_with_data(spool):
    """Lanes of a spool directory that still hold segment files."""
    out = []
    for lane in sorted(os.listdir(spool)):
        d = os.path.join(spool, lane)
        if os.path.isdir(d) and any(f.startswith("seg-") and
                                    os.path.getsize(os.path.join(d, f))
                                    for f in os.listdir(d)):
            out.append(lane)
    return out


def wait_spool_settled(spool, quiet=1.5, timeout=30):
    """Wait until the spool holds data and has not grown for `quiet` s."""
    deadline = time.monotonic() + timeout * SLOW
    last, since = -1, time.monotonic()
    while True:
        n = spool_bytes(spool)
        now = time.monotonic()
        if n != last:
            last, since = n, now
        elif n > 0 and now - since >= quiet * SLOW:
            return n
        if now >= deadline:
            raise AssertionError("spool %s did not settle (%d bytes)"
                                 % (spool, n))
        time.sleep(0.05)


def summary_fields(line):
    return dict(kv.split("=", 1) for kv in line.split())


# ---------------------------------------------------------------------------
# The test base


class ITCase(unittest.TestCase):
    """Temp dir, process bookkeeping and comparisons for one test."""

    maxDiff = None

    def setUp(self):
        for name in ("mtascoped", "mtascope-pipe", "mtascope",
                     "mtascope-sim"):
            binary(name)
        self.tmp = tempfile.mkdtemp(prefix="mtascope-it-")
        self.procs = []
        self.seq = 0
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        errors = []
        for p in reversed(self.procs):
            try:
                p.reap()
            except Exception as e:
                errors.append(e)
        keep = os.environ.get("MTASCOPE_IT_KEEP", "")
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = result is not None and any(
            t is self for t, _ in result.failures + result.errors)
        if keep == "1" or (keep == "failed" and failed):
            print("\nkept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if errors:
            raise errors[0]

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def simulate(self, hosts=1, days=2, rate=20000, seed=1):
        return Sim(self, hosts, days, rate, seed)

    def collector(self, name="collector.db", extra=(), start=True):
        c = Collector(self, self.path(name), extra=extra)
        return c.start() if start else c

    def pipe(self, collector, host, spool=None, extra=()):
        return Pipe(self, host, spool or self.path("spool-" + host),
                    collector.url, extra)

    def all_logs(self):
        return "\n".join("--- %s (%s)\n%s" % (p.name, os.path.basename(p.log),
                                             tail(p.log))
                         for p in self.procs)

    def assertRows(self, got, want, what):
        d = diff_rows(got, want)
        if d:
            self.fail("%s differs from the truth:\n%s\n%s"
                      % (what, d, self.all_logs()))

    def assertPipeOk(self, pipe, timeout=60, summary=None):
        rc, out = pipe.finish(timeout)
        if rc != 0:
            self.fail("pipe %s exited %d, expected 0\n%s"
                      % (pipe.host, rc, self.all_logs()))
        if summary is not None:
            self.assertEqual(out.strip(), summary,
                             "pipe %s --summary" % pipe.host)
        return out

    def assertCollectorStops(self, collector):
        rc = collector.stop()
        if rc != 0:
            self.fail("mtascoped exited %d on SIGTERM, expected 0\n%s"
                      % (rc, tail(collector.proc.log)))

    def assertStallsShort(self, pipe, limit=0.1, skip=3):
        """The longest single write() to the pipe's stdin, after the first
        few that fill the pipe buffer, stays under `limit` s: PowerMTA
        must never wait on the pipe."""
        stalls = pipe.stalls[skip:]
        self.assertTrue(stalls, "no writes measured")
        worst = max(stalls)
        i = pipe.stalls.index(worst)
        self.assertLess(worst, limit,
                        "write %d of %d to the pipe's stdin blocked %.0f ms "
                        "(limit %.0f ms)" % (i, len(pipe.stalls),
                                             worst * 1000, limit * 1000))


# ---------------------------------------------------------------------------
# Protobuf and SP framing, by hand (stdlib only)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_varint(field, n):
    return varint(field << 3) + varint(n)


def pb_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(field << 3 | 2) + varint(len(b)) + b


def pb_packed(field, values):
    return pb_bytes(field, b"".join(varint(v) for v in values))


def pb_decode(buf):
    """{field: [values]} of a flat message: varints as ints,
    length-delimited fields as bytes."""
    out = {}
    i = 0

    def rd():
        nonlocal i
        shift = v = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v
    while i < len(buf):
        key = rd()
        field, wt = key >> 3, key & 7
        if wt == 0:
            val = rd()
        elif wt == 2:
            n = rd()
            val = bytes(buf[i:i + n])
            if len(val) != n:
                raise ValueError("truncated field %d" % field)
            i += n
        elif wt == 1:
            val = bytes(buf[i:i + 8])
            i += 8
        elif wt == 5:
            val = bytes(buf[i:i + 4])
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(field, []).append(val)
    return out


def decode_ack(buf):
    """mtascope.v1.Ack -> (seq, status, reason, spool_id)."""
    f = pb_decode(buf)
    return (f.get(1, [0])[-1], f.get(2, [0])[-1],
            f.get(3, [b""])[-1].decode("utf-8", "replace"),
            f.get(4, [b""])[-1].decode("utf-8", "replace"))


class SpReq:
    """A minimal nng req0 peer over TCP (SP protocol): an 8-byte
    handshake, then frames of a 64-bit big-endian length and a body that
    starts with the 32-bit request id (top bit set)."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout * SLOW)
        self.s.sendall(b"\x00SP\x00" + struct.pack(">H", 0x30) + b"\0\0")
        hs = self._read(8)
        if hs[:4] != b"\x00SP\x00" or struct.unpack(">H", hs[4:6])[0] != 0x31:
            raise AssertionError("not an nng rep0 peer: %r" % hs)
        self.next_id = 1

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            b = self.s.recv(n - len(buf))
            if not b:
                raise ConnectionError("connection closed")
            buf += b
        return buf

    def request(self, body):
        """Send body, return the reply body."""
        rid = 0x80000000 | self.next_id
        self.next_id += 1
        msg = struct.pack(">I", rid) + body
        self.s.sendall(struct.pack(">Q", len(msg)) + msg)
        n = struct.unpack(">Q", self._read(8))[0]
        reply = self._read(n)
        got = struct.unpack(">I", reply[:4])[0]
        if got != rid:
            raise AssertionError("reply to request %x, expected %x"
                                 % (got, rid))
        return reply[4:]

    def close(self):
        self.s.close()
