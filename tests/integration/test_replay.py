"""
Backfill: mtascope-pipe --replay sends accounting files through the same
path as the live stream.  Replaying a file again, or a set of files that
overlaps one already replayed, must count nothing twice.
"""

import os
import subprocess
import unittest

from mtascope_it import (ITCase, aggregate, binary, day_range, export,
                         only_hosts)


class ReplayTest(ITCase):

    def replay(self, col, host, files):
        r = subprocess.run([binary("mtascope-pipe"), "--replay",
                            "--collector", col.url,
                            "--spool", self.path("spool-replay"),
                            "--host", host, "--summary",
                            "--drain-timeout", "60"] + files,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        # The private spool of a replay is gone once it is delivered.
        self.assertEqual(os.listdir(self.path("spool-replay")), [])
        return r.stdout.decode().strip()

    def test_replaying_twice_counts_once(self):
        sim = self.simulate(hosts=2, days=2, rate=15000, seed=61)
        truth = sim.truth()
        frm, to = day_range(truth)
        col = self.collector()
        files = {h: os.path.join(sim.dir, h + ".csv") for h in sim.hosts}

        got = self.replay(col, "mta01", [files["mta01"]])
        self.assertEqual(got, sim.summary("mta01"))
        want1 = aggregate(only_hosts(truth, ["mta01"]))
        self.assertRows(export(col.db, frm, to), want1, "first replay")

        # The same file again: all of it is a duplicate.
        self.replay(col, "mta01", [files["mta01"]])
        self.assertRows(export(col.db, frm, to), want1, "second replay")

        # Two files of another host in one run, one of them twice.
        self.replay(col, "mta02", [files["mta02"], files["mta02"]])
        self.assertRows(export(col.db, frm, to), aggregate(truth),
                        "after replaying the second host twice in one run")
        self.assertCollectorStops(col)


if __name__ == "__main__":
    unittest.main()
