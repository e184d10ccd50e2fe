"""
A `pmta reload`: PowerMTA closes the old pipe's stdin and starts a new
pipe at once, on the same spool directory, while the old one is still
draining.  The two must not corrupt or double-send the spool: with the
collector away during the overlap, everything still arrives exactly once.

The stream is cut at an hour boundary that no true session crosses, so
the two halves add up to the truth exactly, sessions included (the old
pipe closes its sessions at its end of input).
"""

import time
import unittest

from mtascope_it import (Collector, CsvStream, ITCase, day_range, export,
                         only_hosts, spool_bytes, spool_lanes_with_data)


class ReloadTest(ITCase):

    def _halves(self, sim, host):
        stream = CsvStream(sim.csv(host))
        idx, _ = stream.clean_cut(sim.sessions(host))
        first, rest = stream.split(idx)
        return first, rest, only_hosts(sim.truth(), [host])

    def test_old_pipe_drains_while_new_one_reads(self):
        sim = self.simulate(hosts=1, days=2, rate=20000, seed=81)
        host = sim.hosts[0]
        first, rest, truth = self._halves(sim, host)
        col = self.collector(start=False)
        spool = self.path("spool")
        opts = ["--batch-ms", "100", "--drain-timeout", "60"]

        old = self.pipe(col, host, spool, opts)
        old.write(first)
        old.close_stdin()
        new = self.pipe(col, host, spool, opts)
        new.write(rest)
        new.close_stdin()
        # Both are alive, both with batches only in the spool.
        time.sleep(0.5)
        self.assertTrue(old.proc.running() and new.proc.running())
        col.start()
        self.assertPipeOk(old, timeout=90)
        self.assertPipeOk(new, timeout=90)
        frm, to = day_range(truth)
        self.assertRows(export(col.db, frm, to), truth,
                        "export after two overlapping pipes")
        self.assertCollectorStops(col)

    def test_new_pipe_adopts_what_the_old_one_left(self):
        sim = self.simulate(hosts=1, days=2, rate=20000, seed=82)
        host = sim.hosts[0]
        first, rest, truth = self._halves(sim, host)
        col = self.collector()
        spool = self.path("spool")

        # The old pipe reaches no collector (nothing listens where it
        # sends) and gives up draining after a second: it must say so
        # (exit status) and leave its batches in the spool.
        nowhere = Collector(self, self.path("unused.db"))
        old = self.pipe(nowhere, host, spool, ["--batch-ms", "100",
                                               "--drain-timeout", "1"])
        old.write(first)
        old.close_stdin()
        # PowerMTA starts the new pipe at once, on the same spool.
        new = self.pipe(col, host, spool, ["--batch-ms", "100",
                                           "--drain-timeout", "60"])
        rc, _ = old.finish(60)
        self.assertNotEqual(rc, 0, "the old pipe exited 0 with nothing "
                            "acknowledged")
        self.assertGreater(spool_bytes(spool), 0)
        # The new one reads the rest and ends soon after: before it exits
        # it must have taken over the old pipe's batches and sent them,
        # or not exit 0.
        new.write(rest)
        new.close_stdin()
        rc, _ = new.finish(90)
        left = spool_lanes_with_data(spool)
        if rc == 0:
            self.assertRows(export(col.db, *day_range(truth)), truth,
                            "export after the new pipe exited 0 (lanes "
                            "with data left in the spool: %s)" % left)
        else:
            self.fail("the new pipe exited %d:\n%s" % (rc,
                                                       self.all_logs()))
        self.assertCollectorStops(col)


if __name__ == "__main__":
    unittest.main()
