"""
The collector is down while PowerMTA writes at full speed.  The pipe must
keep reading its stdin (PowerMTA is never made to wait): no single write
to the pipe may block for long.  When the collector comes up, everything
the pipe spooled is delivered, exactly.
"""

import unittest

from mtascope_it import ITCase, aggregate, day_range, export

CHUNK = 64 * 1024
STALL_LIMIT = 0.1


class CollectorDownTest(ITCase):

    def test_no_stall_then_exact_delivery(self):
        sim = self.simulate(hosts=1, days=2, rate=60000, seed=51)
        host = sim.hosts[0]
        truth = sim.truth()
        col = self.collector(start=False)
        p = self.pipe(col, host, extra=["--drain-timeout", "60"])
        data = sim.csv(host)
        p.write(data, chunk=CHUNK)
        self.assertGreater(len(p.stalls), 100)
        # The first writes fill the pipe buffer while the program starts.
        self.assertStallsShort(p, STALL_LIMIT, skip=3)
        self.assertTrue(p.proc.running(), "the pipe died with the "
                        "collector down")
        p.close_stdin()
        # End of input with nobody to deliver to: the pipe waits in its
        # drain for the collector, which comes up now.
        col.start()
        self.assertPipeOk(p, timeout=90, summary=sim.summary(host))
        frm, to = day_range(truth)
        self.assertRows(export(col.db, frm, to), truth,
                        "export after the collector came back")
        self.assertRows(export(col.db, frm, to, "isp", "day"),
                        aggregate(truth, "isp", "day"),
                        "export --by day --group isp")
        self.assertCollectorStops(col)


if __name__ == "__main__":
    unittest.main()
