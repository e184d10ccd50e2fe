"""
A small fleet: three pipes write to one collector at the same time.  Every
exported number, at every grouping, must equal the simulator's truth.
"""

import datetime
import unittest

from mtascope_it import (ITCase, aggregate, day_range, export, feed_in_thread,
                         hosts, summary_fields)


class FleetTest(ITCase):

    def test_three_pipes_one_collector(self):
        sim = self.simulate(hosts=3, days=2, rate=20000, seed=21)
        truth = sim.truth()
        self.assertEqual(sorted({k[2] for k in truth}), sim.hosts)
        col = self.collector()
        pipes = [self.pipe(col, h, extra=["--drain-timeout", "60"])
                 for h in sim.hosts]
        feeders = [feed_in_thread(p, sim.csv(p.host)) for p in pipes]
        for t in feeders:
            t.join(120)
            self.assertFalse(t.is_alive(), "feeding a pipe hung")
            self.assertIsNone(t.result["error"])
        for p in pipes:
            self.assertPipeOk(p, timeout=90, summary=sim.summary(p.host))

        frm, to = day_range(truth)
        for group in ("isp,host,source_ip", "isp,host", "isp"):
            for by in ("hour", "day"):
                self.assertRows(export(col.db, frm, to, group, by),
                                aggregate(truth, group, by),
                                "export --by %s --group %s" % (by, group))

        # --to is exclusive: one day of data, nothing of the next.
        first = min(k[0] for k in truth)[:10]
        nxt = (datetime.date.fromisoformat(first) +
               datetime.timedelta(days=1)).isoformat()
        self.assertRows(export(col.db, first, nxt),
                        {k: v for k, v in truth.items()
                         if k[0].startswith(first)},
                        "export --from %s --to %s" % (first, nxt))

        # Every accepted record of every host arrived once.
        h = hosts(col.db)
        self.assertEqual(sorted(h), sim.hosts)
        for name in sim.hosts:
            self.assertEqual(int(h[name]["records"]),
                             int(summary_fields(sim.summary(name))["records"]),
                             "mtascope hosts: records of %s" % name)

        self.assertCollectorStops(col)
        self.assertIn("0 rejected", col.logs())


if __name__ == "__main__":
    unittest.main()
