#!/usr/bin/env python3
"""Check an mtascope-sim output directory against design.md, independently.

Reads every DIR/<host>.csv with Python's csv module (headers remapped at every
line whose first cell is "type"), recomputes design.md's rollup with its own
ISP rules (domain table, then MX suffix, else "other") and its own session
inference, and compares with what the simulator says it wrote:

  - <host>.summary counts equal the records in <host>.csv
  - every line ends in CRLF; timeLogged never decreases within a host
  - truth.csv is sorted, has no empty rows, and every counter except the
    session ones equals the rollup recomputed from the CSV
  - the truth's sessions add up to the .sessions files and to the records
    that design.md makes eligible for a session
  - with --clean, the inference reproduces <host>.sessions exactly and the
    session counters of truth.csv

It is slow by design (plain Python): run it on a small simulation, e.g.
  build/mtascope-sim --hosts 4 --days 3 --rate 5000 --clean-sessions --out D
  python3 scripts/sim/sim_check.py D --clean
"""
import argparse
import calendar
import collections
import csv
import glob
import os
import sys

DOMAINS = {
    "google": "gmail.com googlemail.com",
    "microsoft": "outlook.com hotmail.com live.com msn.com hotmail.co.uk "
                 "hotmail.fr hotmail.de live.co.uk live.fr outlook.fr outlook.de",
    "yahoo": "yahoo.com ymail.com rocketmail.com yahoo.co.uk yahoo.fr yahoo.de "
             "yahoo.it yahoo.es yahoo.ca aol.com aim.com verizon.net",
    "apple": "icloud.com me.com mac.com",
    "gmx": "gmx.de gmx.net gmx.com gmx.at gmx.ch web.de mail.com",
    "orange": "orange.fr wanadoo.fr",
    "t-online": "t-online.de",
    "comcast": "comcast.net",
    "att": "att.net sbcglobal.net bellsouth.net",
    "mailru": "mail.ru bk.ru inbox.ru list.ru",
    "yandex": "yandex.ru yandex.com ya.ru",
}
MX = {
    "google": "google.com googlemail.com", "microsoft": "outlook.com",
    "yahoo": "yahoodns.net", "apple": "icloud.com", "gmx": "gmx.net web.de",
    "orange": "orange.fr", "t-online": "t-online.de", "comcast": "comcast.net",
    "mailru": "mail.ru", "yandex": "yandex.net",
}
DOMAIN_ISP = {d: isp for isp, ds in DOMAINS.items() for d in ds.split()}
MX_ISP = [(s, isp) for isp, ss in MX.items() for s in ss.split()]
COUNTERS = ["delivered", "bounced", "deferred", "deferred_queue", "complaints",
            "remote_bounces", "sessions", "session_records", "bytes"]
TYPE_COUNTER = {"d": 0, "b": 1, "t": 2, "tq": 3, "f": 4, "rb": 5}

_day_cache = {}


def parse_time(s):
    if s.isdigit():
        return int(s)
    day = s[:10]
    base = _day_cache.get(day)
    if base is None:
        y, m, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
        base = calendar.timegm((y, m, d, 0, 0, 0))
        _day_cache[day] = base
    sec = int(s[11:13]) * 3600 + int(s[14:16]) * 60 + int(s[17:19])
    sign = -1 if s[19] == "-" else 1
    off = sign * (int(s[20:22]) * 3600 + int(s[22:24]) * 60)
    return base + sec - off


def isp_of(domain, dsn_mta):
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        isp = DOMAIN_ISP.get(".".join(labels[i:]))
        if isp:
            return isp
    host = dsn_mta.split(" (")[0].lower().rstrip(".")
    if host:
        for suffix, isp in MX_ISP:
            if host == suffix or host.endswith("." + suffix):
                return isp
    return "other"


def read_host(path):
    with open(path, "rb") as fp:
        raw = fp.read()
    if raw.count(b"\n") != raw.count(b"\r\n"):
        sys.exit("%s: a line does not end in CRLF" % path)
    rows = []
    hdr = None
    with open(path, newline="", encoding="utf-8") as fp:
        for n, row in enumerate(csv.reader(fp)):
            if row and row[0] == "type":
                hdr = {k: i for i, k in enumerate(row)}
                continue
            if hdr is None or len(row) != len(hdr):
                sys.exit("%s: record %d has %d cells, header %s"
                         % (path, n, len(row), None if hdr is None else len(hdr)))
            rows.append({k: row[i] for k, i in hdr.items()})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--clean", action="store_true")
    ap.add_argument("--gap", type=int, default=2)
    a = ap.parse_args()

    rollup = collections.defaultdict(lambda: [0] * 9)
    inferred_rollup = collections.defaultdict(lambda: [0, 0])
    hosts = sorted(os.path.basename(p)[:-4]
                   for p in glob.glob(os.path.join(a.dir, "mta*.csv")))
    for host in hosts:
        rows = read_host(os.path.join(a.dir, host + ".csv"))
        counts = collections.Counter(r["type"] for r in rows)
        summ = dict(kv.split("=") for kv in
                    open(os.path.join(a.dir, host + ".summary")).read().split())
        for t in ["d", "b", "t", "tq", "r", "f", "rb", "rs"]:
            if int(summ[t]) != counts.get(t, 0):
                sys.exit("%s: summary %s=%s, CSV has %d"
                         % (host, t, summ[t], counts.get(t, 0)))
        if int(summ["records"]) != len(rows):
            sys.exit("%s: summary records=%s, CSV has %d"
                     % (host, summ["records"], len(rows)))
        true_sessions = [l.rstrip("\n").split(",") for l in
                         open(os.path.join(a.dir, host + ".sessions"))]
        if len(true_sessions) != int(summ["sessions"]) or \
                sum(int(s[4]) for s in true_sessions) != int(summ["session_records"]):
            sys.exit("%s: .sessions disagrees with .summary" % host)

        last = None
        clock = None
        open_s = {}
        inferred = []
        eligible = 0

        def close(key):
            s = open_s.pop(key)
            inferred.append((key[0], key[1], s[0], s[1], s[2]))
            inferred_rollup[s[3]][0] += 1
            inferred_rollup[s[3]][1] += s[2]

        for r in rows:
            t = parse_time(r["timeLogged"])
            if last is not None and t < last:
                sys.exit("%s: timeLogged goes back at %s" % (host, r["timeLogged"]))
            last = t
            if r.get("timeQueued") and parse_time(r["timeQueued"]) > t:
                sys.exit("%s: timeQueued after timeLogged" % host)
            typ = r["type"]
            domain = (r["queue"].split("/")[0] if typ == "tq"
                      else r["rcpt"].rsplit("@", 1)[1])
            isp = isp_of(domain, r.get("dsnMta", ""))
            src = r.get("dlvSourceIp", "")
            hour = t // 3600
            key = (hour, isp, host, src)
            if typ in TYPE_COUNTER:
                rollup[key][TYPE_COUNTER[typ]] += 1
            if typ == "d":
                rollup[key][8] += int(r["dlvSize"])
            # design.md session inference
            if clock is None or t > clock:
                clock = t
            for k in [k for k, s in open_s.items() if clock > s[1] + a.gap]:
                close(k)
            dst = r.get("dlvDestinationIp", "")
            if typ in ("d", "t", "b") and src and dst and src != "0.0.0.0":
                eligible += 1
                k = (src, dst)
                s = open_s.get(k)
                if s is not None and abs(t - s[1]) <= a.gap:
                    s[1] = max(s[1], t)
                    s[2] += 1
                else:
                    if s is not None:
                        close(k)
                    open_s[k] = [t, t, 1, key]
        for k in list(open_s):
            close(k)
        if eligible != int(summ["session_records"]):
            sys.exit("%s: %d eligible records, truth says %s in sessions"
                     % (host, eligible, summ["session_records"]))
        if a.clean:
            want = sorted((s[0], s[1], int(s[2]), int(s[3]), int(s[4]))
                          for s in true_sessions)
            if sorted(inferred) != want:
                sys.exit("%s: inferred sessions differ from %s.sessions "
                         "(%d vs %d)" % (host, host, len(inferred), len(want)))
        print("%s: %d records, %d sessions (%d inferred) ok"
              % (host, len(rows), len(true_sessions), len(inferred)))

    with open(os.path.join(a.dir, "truth.csv"), newline="") as fp:
        rd = csv.reader(fp)
        if next(rd) != ["hour", "isp", "host", "source_ip"] + COUNTERS:
            sys.exit("truth.csv: bad header")
        truth = list(rd)
    keys = [tuple(r[:4]) for r in truth]
    if [tuple(k.encode() for k in key) for key in keys] != \
            sorted(tuple(k.encode() for k in key) for key in keys):
        sys.exit("truth.csv: rows not sorted")
    if len(set(keys)) != len(keys):
        sys.exit("truth.csv: duplicate keys")
    got = {}
    for r in truth:
        v = [int(x) for x in r[4:]]
        if not any(v):
            sys.exit("truth.csv: empty row %s" % r[:4])
        t = calendar.timegm((int(r[0][0:4]), int(r[0][5:7]), int(r[0][8:10]),
                             int(r[0][11:13]), 0, 0)) // 3600
        got[(t, r[1], r[2], r[3])] = v
    mine = {k: v for k, v in rollup.items() if any(v)}
    for k in set(got) | set(mine):
        g = got.get(k, [0] * 9)
        m = mine.get(k, [0] * 9)
        if g[:6] + g[8:] != m[:6] + m[8:]:
            sys.exit("truth.csv differs at %s: truth %s, CSV %s" % (k, g, m))
        if a.clean:
            inf = inferred_rollup.get(k, [0, 0])
            if g[6:8] != inf:
                sys.exit("truth.csv sessions differ at %s: truth %s, "
                         "inferred %s" % (k, g[6:8], inf))
    totals = [sum(v[i] for v in got.values()) for i in range(9)]
    print("truth.csv: %d rows ok; totals %s"
          % (len(got), dict(zip(COUNTERS, totals))))


if __name__ == "__main__":
    main()
