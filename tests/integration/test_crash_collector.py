"""
The collector dies (SIGKILL) three times while two pipes stream to it and
comes back on the same database.  An Ack means "committed", so whatever
was committed but not acknowledged is sent again and must be recognized
as a duplicate; whatever was not committed must be applied after the
restart.  At the end every number equals the truth: nothing lost, nothing
counted twice.
"""

import time
import unittest

from mtascope_it import (ITCase, aggregate, day_range, export, feed_in_thread,
                         hosts, only_hosts, wait_for)

# Three quarters of each stream are written over this many seconds; the
# rest only after the third kill, so every kill lands mid-stream however
# long the pipes take to redial (they back off, up to 5 s).
FEED_SECONDS = 6.0
DOWN_SECONDS = 0.4
# How long after the first sign of progress a kill lands: batches are in
# flight then, some committed and not yet acknowledged.
KILL_AFTER = 0.3


class CrashCollectorTest(ITCase):

    def test_collector_killed_three_times(self):
        sim = self.simulate(hosts=2, days=2, rate=20000, seed=31)
        truth = sim.truth()
        col = self.collector()
        # Small, frequent batches so that many are in flight at each kill.
        pipes = [self.pipe(col, h, extra=["--batch-records", "200",
                                          "--batch-ms", "100",
                                          "--drain-timeout", "90"])
                 for h in sim.hosts]
        feeders, rests = [], []
        chunk = 64 * 1024
        for p in pipes:
            data = sim.csv(p.host)
            head = len(data) * 3 // 4
            rests.append(data[head:])
            pause = FEED_SECONDS / (head / chunk)
            feeders.append(feed_in_thread(p, data[:head], chunk=chunk,
                                          pause=pause))
        applied = [0]
        for k in range(3):
            # The collector does work in every life: each kill lands in
            # the middle of the stream, not before or after it.
            wait_for(lambda: self._records(col) > applied[-1], 30,
                     "records to be applied before kill %d" % (k + 1))
            time.sleep(KILL_AFTER)
            col.kill()
            applied.append(self._records(col))
            time.sleep(DOWN_SECONDS)
            col.start()
        for t in feeders:
            t.join(120)
            self.assertFalse(t.is_alive(), "feeding a pipe hung")
            self.assertIsNone(t.result["error"])
        for p, rest in zip(pipes, rests):
            p.write(rest)
        for p in pipes:
            self.assertPipeOk(p, timeout=120, summary=sim.summary(p.host))

        frm, to = day_range(truth)
        self.assertRows(export(col.db, frm, to),
                        only_hosts(truth, sim.hosts),
                        "export after three collector crashes")
        self.assertRows(export(col.db, frm, to, "isp", "day"),
                        aggregate(truth, "isp", "day"),
                        "export --by day --group isp")
        self.assertCollectorStops(col)
        self.assertEqual(col.starts, 4)

    def _records(self, col):
        return sum(int(h["records"]) for h in hosts(col.db).values())


if __name__ == "__main__":
    unittest.main()
