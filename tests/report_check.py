#!/usr/bin/env python3
"""Check `mtascope report` and `mtascope trend` outputs against truth.csv.

Usage: report_check.py NOV_SIM_DIR DEC_SIM_DIR SYNTH_DIR OUTPUT_DIR
       report_check.py synth COLLECTOR_DB SYNTH_DIR
(see report_test.sh).  The second form writes SYNTH_DIR/db.sqlite, a copy
of the collector's database emptied and holding hand-made rollup rows that
sit on either side of each significance threshold, and their truth.csv.
It marks the copy as schema 1, a database from before the collector kept
its aggregate tables, so that the collector builds them from rollup when it
next opens the database, as it would after an upgrade.

Every expected number is computed here from the simulator's truth.csv (the
counters it wrote, per hour, isp, host and source ip), following design.md
and the review's contract: D and D-1 are single days; the 7-day comparison
is the mean of the daily counts over the days with traffic, and the pooled
value (sum over sum) for rates and messages per session.  Significance is
recomputed with its own two-proportion z test.  Prints one line per check,
"ok ..." or "FAIL ...".
"""
import calendar
import csv
import json
import math
import os
import re
import sys
import time

COUNTERS = ["delivered", "bounced", "deferred", "deferred_queue",
            "complaints", "remote_bounces", "sessions", "session_records",
            "bytes"]
# name in JSON, label in text, kind, floor (pp) for rates, decimals
METRICS = [
    ("delivered", "delivered", "count", None, 0),
    ("attempts", "attempts", "count", None, 0),
    ("deferral_pct", "deferral%", "rate", 1.0, 2),
    ("bounce_pct", "bounce%", "rate", 1.0, 2),
    ("complaint_pct", "complaint%", "rate", 0.05, 3),
    ("msgs_per_session", "msg/sess", "ratio", None, 1),
]
LABELS = {m[1]: m for m in METRICS}
TOL = 1e-9

results = []


def check(cond, what, detail=()):
    """Record a check; the detail lines are printed only if it failed."""
    results.append("ok " + what if cond else
                   "FAIL " + "".join([what] + ["\n    " + d
                                               for d in detail]))
    return cond


def day_num(s):
    return calendar.timegm((int(s[:4]), int(s[5:7]), int(s[8:10]), 0, 0,
                            0)) // 86400


def day_str(n):
    return time.strftime("%Y-%m-%d", time.gmtime(n * 86400))


def load_truth(d):
    """[(hour number, isp, host, source_ip, {counter: n})]"""
    out = []
    with open(os.path.join(d, "truth.csv"), newline="") as f:
        for r in csv.DictReader(f):
            h = r["hour"]
            hour = calendar.timegm((int(h[:4]), int(h[5:7]), int(h[8:10]),
                                    int(h[11:13]), 0, 0)) // 3600
            out.append((hour, r["isp"], r["host"], r["source_ip"],
                        {c: int(r[c]) for c in COUNTERS}))
    return out


def zero():
    return {c: 0 for c in COUNTERS}


def add(a, b):
    for c in COUNTERS:
        a[c] += b[c]


def by_day(truth, keyfn, hourly=False):
    """{key: {day (or hour) number: counters}}"""
    out = {}
    for hour, isp, host, ip, c in truth:
        k = keyfn(isp, host, ip)
        if k is None:
            continue
        b = hour if hourly else hour // 24
        add(out.setdefault(k, {}).setdefault(b, zero()), c)
    return out


def attempts(c):
    return c["delivered"] + c["bounced"] + c["deferred"]


def num_den(name, c):
    if name == "deferral_pct":
        return c["deferred"], attempts(c)
    if name == "bounce_pct":
        return c["bounced"], c["delivered"] + c["bounced"]
    if name == "complaint_pct":
        return c["complaints"], c["delivered"]
    return c["session_records"], c["sessions"]


def value(metric, c, days=1):
    name, _, kind = metric[:3]
    if kind == "count":
        n = c["delivered"] if name == "delivered" else attempts(c)
        return n / days if days else None
    x, n = num_den(name, c)
    if n == 0:
        return None
    return 100 * (x / n) if kind == "rate" else x / n


def change(metric, v, base):
    if v is None or base is None:
        return None
    if metric[2] == "rate":
        return v - base
    return None if base == 0 else (v - base) / base * 100


def z_score(x1, n1, x0, n0):
    if n1 == 0 or n0 == 0:
        return 0.0
    p = (x1 + x0) / (n1 + n0)
    var = p * (1 - p) * (1 / n1 + 1 / n0)
    if var < 0:
        return None
    se = math.sqrt(var)
    return 0.0 if se == 0 else (x1 / n1 - x0 / n0) / se


def significant(metric, chg, base, cd, cc):
    name, _, kind, floor = metric[:4]
    if chg is None:
        return False
    if kind == "count":
        return abs(chg) >= 30 and base >= 1000
    if kind == "ratio":
        return (abs(chg) >= 30 and cd["sessions"] >= 50 and
                cc["sessions"] >= 50)
    z = z_score(*num_den(name, cd), *num_den(name, cc))
    return z is not None and abs(chg) >= floor and abs(z) >= 4


def expect_row(series, day):
    """The review of one key's daily series for day number `day`."""
    d = series.get(day, zero())
    d1 = series.get(day - 1, zero())
    week, ndays = zero(), 0
    for i in range(day - 7, day):
        if i in series:
            add(week, series[i])
            ndays += attempts(series[i]) > 0
    row = {"mean7_days": ndays, "_d": d}
    for m in METRICS:
        v, v1, v7 = value(m, d), value(m, d1), value(m, week, ndays)
        c1, c7 = change(m, v, v1), change(m, v, v7)
        row[m[0]] = {
            "value": v, "d1": v1, "d1_change": c1, "mean7": v7,
            "mean7_change": c7,
            "d1_significant": significant(m, c1, v1, d, d1),
            "mean7_significant": significant(m, c7, v7, d, week)}
    return row


def expected_rows(truth, keyfn, day, total):
    """Rows as the review must order them: busiest on D, then the total."""
    groups = by_day(truth, keyfn)
    rows = []
    for k, s in groups.items():
        if any(day - 7 <= b <= day for b in s):
            rows.append((k, expect_row(s, day)))
    rows.sort(key=lambda kr: (-kr[1]["_d"]["delivered"], kr[0]))
    if total:
        fleet = {}
        for k, s in groups.items():
            for b, c in s.items():
                add(fleet.setdefault(b, zero()), c)
        rows.append((None, expect_row(fleet, day)))
    return rows


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, bool) or isinstance(a, bool):
        return a is b
    return abs(a - b) <= TOL * max(1.0, abs(b))


def compare_json(name, doc, exp, day):
    check(doc.get("day") == day_str(day) and doc.get("d1") ==
          day_str(day - 1) and doc.get("mean7_from") == day_str(day - 7)
          and doc.get("mean7_to") == day_str(day - 1),
          "%s: days %s" % (name, [doc.get(k) for k in
                                  ("day", "d1", "mean7_from", "mean7_to")]))
    rows = doc.get("rows", [])
    keys = [r.get("key") for r in rows]
    check(keys == [k for k, _ in exp], "%s: %d rows in order" % (
        name, len(exp)), ["got  %s" % keys, "want %s" % [k for k, _ in exp]])
    got = {r.get("key"): r for r in rows}
    bad = []
    for k, want in exp:
        r = got.get(k)
        if r is None:
            continue
        if r.get("mean7_days") != want["mean7_days"]:
            bad.append("%s mean7_days %s want %s" % (k, r.get("mean7_days"),
                                                    want["mean7_days"]))
        for m in METRICS:
            for f, w in want[m[0]].items():
                g = r.get(m[0], {}).get(f, "missing")
                if g == "missing" or not close(g, w):
                    bad.append("%s %s %s=%r want %r" % (k, m[0], f, g, w))
    check(not bad, "%s: every number and flag against truth (%d rows)"
          % (name, len(exp)), bad[:10])


def fmt_value(m, v):
    if v is None:
        return "-"
    return "%.*f%s" % (m[4], v, "%" if m[2] == "rate" else "")


def fmt_change(m, c):
    if c is None:
        return "-"
    if m[2] == "rate":
        return "%+.*fpp" % (m[4], c)
    if c >= 99999.5:
        return ">+99999%"
    return "%+.*f%%" % (0 if abs(c) >= 999.95 else 1, c)


def parse_text(path):
    """{key: {label: [D, D-1, chg, 7d, chg]}} from the text review."""
    rows, key, body = {}, None, False
    with open(path) as f:
        for line in f:
            w = line.split()
            if not body:
                body = len(w) > 1 and w[1] == "metric"
                continue
            if not w:
                continue
            if w[0] == "7d:":
                break
            if len(w) > 1 and w[1] in LABELS:
                key, w = w[0], w[1:]
            elif w[0] not in LABELS:
                key = w[0]  # a long or incomplete key: its own line
                continue
            rows.setdefault(key, {})[w[0]] = w[1:]
    return rows


def compare_text(name, path, exp, total_label):
    rows = parse_text(path)
    bad = []
    for k, want in exp:
        r = rows.get(total_label if k is None else k or "(none)")
        if r is None:
            bad.append("no rows for %s" % k)
            continue
        for m in METRICS:
            w = want[m[0]]
            cells = [fmt_value(m, w["value"]), fmt_value(m, w["d1"]),
                     fmt_change(m, w["d1_change"]) +
                     ("!" if w["d1_significant"] else ""),
                     fmt_value(m, w["mean7"]),
                     fmt_change(m, w["mean7_change"]) +
                     ("!" if w["mean7_significant"] else "")]
            if r.get(m[1]) != cells:
                bad.append("%s %s: %s want %s" % (k, m[1], r.get(m[1]),
                                                  cells))
    check(not bad, "%s: text cells against truth (%d rows)" % (
        name, len(exp)), bad[:10])
    return rows


def load_json(out, name):
    try:
        with open(os.path.join(out, name)) as f:
            doc = json.load(f)
        check(True, "%s: valid JSON" % name)
        return doc
    except (OSError, ValueError) as e:
        check(False, "%s: %s" % (name, e))
        return {}


def ols(y):
    """Least squares through (i, y[i]) for the y[i] that are not None."""
    pts = [(i, v) for i, v in enumerate(y) if v is not None]
    k = len(pts)
    mx = sum(i for i, _ in pts) / k
    my = sum(v for _, v in pts) / k
    sxx = sum((i - mx) ** 2 for i, _ in pts)
    sxy = sum((i - mx) * (v - my) for i, v in pts)
    syy = sum((v - my) ** 2 for _, v in pts)
    b = sxy / sxx
    a = my - b * mx
    res = sum((v - a - b * i) ** 2 for i, v in pts)
    return b, (1 - res / syy) if syy > 0 else 0.0


def check_trend(name, path, truth, isp, first, n, hourly):
    series = by_day(truth, lambda i, h, ip: i if i == isp else None,
                    hourly).get(isp, {})
    buckets = [series.get(first + i) for i in range(n)]
    dfr = [value(METRICS[2], c) if c else None for c in buckets]
    mps = [value(METRICS[5], c) if c else None for c in buckets]
    per_week = 7 * 24 if hourly else 7
    with open(path) as f:
        text = f.read()
    for label, unit, y in (("deferral rate", "pp/week", dfr),
                           ("messages/session", "per week", mps)):
        m = re.search(r"^%s +slope ([-+][0-9.]+) %s, R\^2 ([0-9.]+)"
                      % (re.escape(label), unit), text, re.M)
        slope, r2 = ols(y)
        if not check(m is not None, "%s: %s slope printed" % (name, label)):
            continue
        got = float(m.group(1))
        check(abs(got - slope * per_week) <= 0.0015 and
              abs(float(m.group(2)) - r2) <= 0.0015,
              "%s: %s slope %s R^2 %s, truth %+.4f %s R^2 %.4f" % (
                  name, label, m.group(1), m.group(2), slope * per_week,
                  unit, r2))
    with_traffic = sum(v is not None for v in dfr)
    check(re.search(r"^with traffic +%d of %d %s$" % (
        with_traffic, n, "hours" if hourly else "days"), text, re.M),
        "%s: %d of %d buckets with traffic" % (name, with_traffic, n))
    if hourly:
        return dfr
    rows = re.findall(r"^(\d{4}-\d\d-\d\d) +(\S+) \|(#*|  no traffic)$",
                      text, re.M)
    want = []
    for y, fmt in ((dfr, "%.2f"), (mps, "%.1f")):
        for i, v in enumerate(y):
            want.append((day_str(first + i), "-" if v is None else fmt % v,
                         "no traffic" if v is None else "bar"))
    got = [(d, v, "no traffic" if b.strip() == "no traffic" else "bar")
           for d, v, b in rows]
    check(got == want, "%s: one chart row per day, values and no-traffic "
          "marks as in truth" % name, ["got  %s" % got, "want %s" % want])
    return dfr


# Hand-made ISPs for the day SYNTH_DAY: (every day of the week before, D),
# each pair just above or just below one threshold of the review.
SYNTH_DAY = "2027-01-10"
SYNTH = {
    # 5.0% -> 6.1% and 5.9% on 100000 attempts: z is large, the floor
    # (1 pp) decides.  4% -> 6% on 50 attempts: above the floor, z ~ 0.5.
    "defer-up": ({"delivered": 95000, "deferred": 5000},
                 {"delivered": 93900, "deferred": 6100}),
    "defer-floor": ({"delivered": 95000, "deferred": 5000},
                    {"delivered": 94100, "deferred": 5900}),
    "defer-noise": ({"delivered": 48, "deferred": 2},
                    {"delivered": 47, "deferred": 3}),
    # 0.10% -> 0.16% and 0.14% of a million: the 0.05 pp floor decides.
    "compl-up": ({"delivered": 1000000, "complaints": 1000},
                 {"delivered": 1000000, "complaints": 1600}),
    "compl-floor": ({"delivered": 1000000, "complaints": 1000},
                    {"delivered": 1000000, "complaints": 1400}),
    # +32% and +28% from 5000; +44% from 900 (< 1000).
    "volume-up": ({"delivered": 5000}, {"delivered": 6600}),
    "volume-floor": ({"delivered": 5000}, {"delivered": 6400}),
    "volume-small": ({"delivered": 900}, {"delivered": 1300}),
    # 50 -> 33.3 messages per session on 100/150 sessions; 20 -> 10 on
    # 49 sessions a day (< 50 on D).
    "mps-down": ({"delivered": 5000, "sessions": 100,
                  "session_records": 5000},
                 {"delivered": 5000, "sessions": 150,
                  "session_records": 5000}),
    "mps-few": ({"delivered": 980, "sessions": 49, "session_records": 980},
                {"delivered": 490, "sessions": 49, "session_records": 490}),
}
# The flags each case must raise (vs D-1 and vs 7d alike); no others.
SYNTH_FLAGS = {
    "defer-up": {"deferral_pct"}, "compl-up": {"complaint_pct"},
    "volume-up": {"delivered", "attempts"},
    "mps-down": {"msgs_per_session"},
}


def write_synth(src, d):
    import sqlite3
    os.makedirs(d, exist_ok=True)
    dst = sqlite3.connect(os.path.join(d, "db.sqlite"))
    sqlite3.connect(src).backup(dst)
    for (t,) in dst.execute("SELECT name FROM sqlite_master WHERE type ="
                            " 'table' AND name != 'meta'").fetchall():
        dst.execute('DELETE FROM "%s"' % t)
    dst.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    day = day_num(SYNTH_DAY)
    with open(os.path.join(d, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["hour", "isp", "host", "source_ip"] + COUNTERS)
        for isp, (base, last) in sorted(SYNTH.items()):
            for b in range(day - 7, day + 1):
                c = zero()
                c.update(last if b == day else base)
                hour = b * 24 + 12
                w.writerow([time.strftime("%Y-%m-%dT%H:00:00Z",
                                          time.gmtime(hour * 3600)), isp,
                            "mta01", "10.0.0.1"] + [c[k] for k in COUNTERS])
                dst.execute("INSERT INTO rollup(hour, isp, host, source_ip, "
                            + ", ".join(COUNTERS) + ") VALUES (?, ?, ?, ?"
                            + ", ?" * len(COUNTERS) + ")",
                            [hour, isp, "mta01", "10.0.0.1"] +
                            [c[k] for k in COUNTERS])
    dst.commit()
    dst.close()


def check_synth(d, out):
    day = day_num(SYNTH_DAY)
    exp = expected_rows(load_truth(d), lambda i, h, ip: i, day, True)
    doc = load_json(out, "synth.json")
    compare_json("synth.json", doc, exp, day)
    # The flags the report raised, and those recomputed here, are the
    # ones each case was made for, against D-1 and the 7 days alike.
    got = {r.get("key"): r for r in doc.get("rows", [])}
    for k, want in exp:
        if k is None:
            continue
        flags = []
        for r in (got.get(k, {}), want):
            for f in ("d1_significant", "mean7_significant"):
                flags.append({m[0] for m in METRICS
                              if r.get(m[0], {}).get(f) is True})
        check(all(f == SYNTH_FLAGS.get(k, set()) for f in flags),
              "synth %s: flags %s" % (k, sorted(flags[0])),
              ["report d1, 7d / recomputed d1, 7d: %s" % flags,
               "want %s" % sorted(SYNTH_FLAGS.get(k, set()))])


def main():
    if sys.argv[1] == "synth":
        write_synth(sys.argv[2], sys.argv[3])
        return
    nov_dir, dec_dir, synth_dir, out = sys.argv[1:5]
    nov, dec = load_truth(nov_dir), load_truth(dec_dir)
    check_synth(synth_dir, out)
    D = day_num("2026-11-10")

    # The ISP view, JSON and text, against truth; the flags the incidents
    # must raise, and none on the ISPs the simulation keeps steady.
    exp = expected_rows(nov, lambda i, h, ip: i, D, True)
    doc = load_json(out, "report.json")
    compare_json("report.json", doc, exp, D)
    compare_text("report.txt", os.path.join(out, "report.txt"), exp,
                 "fleet")
    check(doc.get("incomplete_hosts") == [],
          "report.json: no incomplete hosts in November")
    rows = {r.get("key"): r for r in doc.get("rows", [])}
    ex = dict(exp)
    g = rows.get("google", {}).get("msgs_per_session", {})
    check(g.get("mean7_significant") is True and g.get("mean7_change", 0)
          < -50 and ex["google"]["msgs_per_session"]["mean7_significant"],
          "google msgs/session collapse flagged vs 7d (%s%%)"
          % g.get("mean7_change"))
    ms = rows.get("microsoft", {}).get("deferral_pct", {})
    check(ms.get("mean7_significant") is True and ms.get("mean7_change", 0)
          >= 1.0, "microsoft deferral rise flagged vs 7d (%s pp)"
          % ms.get("mean7_change"))
    for isp in ("yahoo", "apple"):
        r = rows.get(isp)
        flags = [m[0] for m in METRICS if r and (
            r[m[0]]["d1_significant"] or r[m[0]]["mean7_significant"])]
        check(r is not None and not flags, "%s: steady, no flags %s"
              % (isp, flags))
    with open(os.path.join(out, "report.txt")) as f:
        text = f.read()
    check(re.search(r"^ +msg/sess .*%!$", text, re.M) and
          re.search(r"^ +deferral% .*pp!$", text, re.M),
          "report.txt: the flags are visible")

    # Drill-downs: one ISP by host, by source ip, and one ISP alone.
    exp = expected_rows(nov, lambda i, h, ip: h if i == "google" else None,
                        D, True)
    compare_json("google_host.json", load_json(out, "google_host.json"),
                 exp, D)
    compare_text("google_host.txt", os.path.join(out, "google_host.txt"),
                 exp, "total")
    exp = expected_rows(nov, lambda i, h, ip: ip if i == "microsoft" else
                        None, D, True)
    compare_json("ms_ip.json", load_json(out, "ms_ip.json"), exp, D)
    compare_text("ms_ip.txt", os.path.join(out, "ms_ip.txt"), exp, "total")
    exp = expected_rows(nov, lambda i, h, ip: i if i == "yahoo" else None,
                        D, False)
    compare_json("yahoo.json", load_json(out, "yahoo.json"), exp, D)

    # December: two days of history only, mta03 silent on D, mta02 with a
    # gap row.
    D2 = day_num("2026-12-03")
    exp = expected_rows(dec, lambda i, h, ip: i, D2, True)
    doc = load_json(out, "dec.json")
    compare_json("dec.json", doc, exp, D2)
    check(all(r["mean7_days"] == 2 for _, r in exp),
          "dec: the 7-day means divide by the 2 days with traffic")
    want = [{"host": "mta02", "dropped": 17, "silent": False},
            {"host": "mta03", "dropped": 0, "silent": True}]
    check(doc.get("incomplete_hosts") == want, "dec.json: incomplete hosts "
          "%s" % doc.get("incomplete_hosts"))
    with open(os.path.join(out, "dec.txt")) as f:
        text = f.read()
    check("incomplete hosts: mta02 (17 dropped), mta03 (no records)\n"
          in text, "dec.txt: incomplete hosts listed under the header")
    exp = expected_rows(dec, lambda i, h, ip: h if i == "google" else None,
                        D2, True)
    doc = load_json(out, "dec_host.json")
    compare_json("dec_host.json", doc, exp, D2)
    inc = {r.get("key"): r.get("incomplete") for r in doc.get("rows", [])}
    check(inc == {"mta01": False, "mta02": True, "mta03": True, None: False},
          "dec_host.json: incomplete rows %s" % inc)
    with open(os.path.join(out, "dec_host.txt")) as f:
        text = f.read()
    check("\nmta03  incomplete: no records on D\n" in text and
          "\nmta02  incomplete: records dropped on D\n" in text and
          "\nmta01  incomplete" not in text,
          "dec_host.txt: incomplete rows marked")
    compare_text("dec_host.txt", os.path.join(out, "dec_host.txt"), exp,
                 "total")

    # No data on D, and a database with no tables: the header only.
    with open(os.path.join(out, "nodata.txt")) as f:
        text = f.read()
    check(text.startswith("daily review 2026-11-20 (UTC), by isp\n") and
          "no data on 2026-11-20" in text and "delivered" not in text,
          "nodata.txt: header and a clear message only")
    doc = load_json(out, "nodata.json")
    check(doc.get("no_data") is True and doc.get("rows") == [],
          "nodata.json: no_data, no rows")
    with open(os.path.join(out, "empty.txt")) as f:
        text = f.read()
    check(text.startswith("daily review 2026-11-10") and "no data" in text
          and "delivered" not in text, "empty.txt: header and message")
    doc = load_json(out, "empty.json")
    check(doc.get("no_data") is True and doc.get("rows") == [],
          "empty.json: no_data, no rows")

    # Trends: the slope of the truth's own daily (and hourly) rates.
    first = day_num("2026-11-01")
    dfr = check_trend("trend.txt", os.path.join(out, "trend.txt"), nov,
                      "microsoft", first, 10, False)
    check(ols(dfr)[0] > 0.2, "microsoft truth deferral slope is positive")
    with open(os.path.join(out, "trend.txt")) as f:
        m = re.search(r"^deferral rate +slope \+([0-9.]+)", f.read(), re.M)
    check(m is not None and float(m.group(1)) > 1.0,
          "trend.txt: a positive deferral slope")
    check_trend("trend_google.txt", os.path.join(out, "trend_google.txt"),
                nov, "google", first - 1, 12, False)
    check_trend("trend_hourly.txt", os.path.join(out, "trend_hourly.txt"),
                nov, "microsoft", first * 24, 240, True)

    for r in results:
        print(r)


if __name__ == "__main__":
    main()
