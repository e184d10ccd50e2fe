"""
A pipe dies (SIGKILL) and a new one starts on the same spool directory.
Records the dead pipe had spooled must be delivered exactly once; the new
pipe must not resend, under another name, what was already acknowledged.

The stream is cut at an hour boundary that no true session crosses, so the
two halves add up to the truth exactly, sessions included.  The first pipe
also gets one `r` record just past the boundary: it counts in no rollup
but moves the stream clock, so that every session of the first half is
closed and spooled before the kill (an open session lives only in memory
and would legitimately die with the process).
"""

import signal
import unittest

from mtascope_it import (SESSION_GAP, CsvStream, ITCase, before_hour,
                         day_range, export, only_hosts, wait_export,
                         wait_spool_settled)


class CrashPipeTest(ITCase):

    def _halves(self, sim, host):
        stream = CsvStream(sim.csv(host))
        idx, hour = stream.clean_cut(sim.sessions(host))
        first, rest = stream.split(idx)
        first += stream.clock_record(idx, hour * 3600 + SESSION_GAP + 1)
        truth = only_hosts(sim.truth(), [host])
        part = before_hour(truth, hour)
        self.assertTrue(part and len(part) < len(truth),
                        "the cut must leave data on both sides")
        return first, rest, truth, part

    def test_kill_pipe_while_collector_up(self):
        sim = self.simulate(hosts=1, days=2, rate=20000, seed=41)
        host = sim.hosts[0]
        first, rest, truth, part = self._halves(sim, host)
        frm, to = day_range(truth)
        col = self.collector()
        spool = self.path("spool")
        opts = ["--batch-records", "200", "--batch-ms", "100",
                "--drain-timeout", "60"]

        p1 = self.pipe(col, host, spool, opts)
        p1.write(first)
        # stdin stays open, as when PowerMTA is still writing: wait until
        # the collector holds exactly the first half, then kill.
        wait_export(col.db, frm, to, part, 30,
                    "the first half to reach the collector")
        p1.kill()
        self.assertEqual(p1.proc.p.returncode, -signal.SIGKILL)

        p2 = self.pipe(col, host, spool, opts)
        p2.write(rest)
        self.assertPipeOk(p2, timeout=60)
        self.assertRows(export(col.db, frm, to), truth,
                        "export after a pipe crash and restart")
        self.assertCollectorStops(col)

    def test_kill_pipe_while_collector_down(self):
        sim = self.simulate(hosts=1, days=2, rate=20000, seed=42)
        host = sim.hosts[0]
        first, rest, truth, part = self._halves(sim, host)
        frm, to = day_range(truth)
        col = self.collector(start=False)
        spool = self.path("spool")
        opts = ["--batch-records", "500", "--batch-ms", "100",
                "--fsync", "always", "--drain-timeout", "60"]

        # Only the spool holds the first half when this pipe dies.
        p1 = self.pipe(col, host, spool, opts)
        p1.write(first)
        wait_spool_settled(spool)
        p1.kill()
        self.assertEqual(p1.proc.p.returncode, -signal.SIGKILL)

        # A new pipe with nothing to read delivers what the dead one left.
        col.start()
        p2 = self.pipe(col, host, spool, opts)
        self.assertPipeOk(p2, timeout=60)
        got = export(col.db, frm, to)
        self.assertRows(got, part,
                        "export of the dead pipe's spool (first half)")

        # And the rest of the stream through a third one: no batch of the
        # first half may come back.
        p3 = self.pipe(col, host, spool, opts)
        p3.write(rest)
        self.assertPipeOk(p3, timeout=60)
        self.assertRows(export(col.db, frm, to), truth,
                        "export after the rest of the stream")
        self.assertCollectorStops(col)


if __name__ == "__main__":
    unittest.main()
