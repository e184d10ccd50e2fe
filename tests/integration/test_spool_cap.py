"""
The spool is capped (2 MiB) and the collector is down for longer than the
cap lasts.  The pipe must keep draining its stdin, drop what does not fit
and count it; the counts travel to the collector as gaps.  For every hour,
the records the collector holds plus the records the gaps declare must
equal the records written: a hole may exist, but it is always visible and
of the right size.

The input leaves out the r and rs records: they count in no rollup, so
without them "records written" per hour is exactly the truth's record
counters (d, b, t, tq, f, rb) per hour.
"""

import unittest

from mtascope_it import (RECORD_COUNTERS, COUNTERS, CsvStream, ITCase,
                         day_range, export, gaps, spool_bytes,
                         summary_fields, wait_for)

CAP = 2 * 1024 * 1024
STALL_LIMIT = 0.1


class SpoolCapTest(ITCase):

    def _run(self, eof_before_collector):
        sim = self.simulate(hosts=1, days=2, rate=40000, seed=61)
        host = sim.hosts[0]
        truth = sim.truth()
        data = CsvStream(sim.csv(host)).without_types({"r", "rs"})
        written = {}
        for (hour, _, _, _), vals in truth.items():
            written[hour] = written.get(hour, 0) + sum(
                vals[COUNTERS.index(c)] for c in RECORD_COUNTERS)
        total = sum(written.values())

        col = self.collector(start=False)
        spool = self.path("spool")
        p = self.pipe(col, host, spool,
                      ["--spool-cap", "2M", "--drain-timeout", "60"])
        p.write(data)
        self.assertStallsShort(p, STALL_LIMIT, skip=3)
        self.assertTrue(p.proc.running(), "the pipe died with its spool "
                        "full")
        self.assertLessEqual(spool_bytes(spool), CAP)
        if eof_before_collector:
            # A `pmta reload` while the collector is away: end of input
            # with a full spool, then the collector comes back.
            p.close_stdin()
            col.start()
        else:
            col.start()
            # Stdin stays open until the spool has room again and the
            # holes have been reported; only then does the input end.
            seen = {}

            def accounted():
                seen["kept"] = sum(self._delivered(col, truth).values())
                seen["dropped"] = sum(self._dropped(col, host).values())
                return seen["kept"] + seen["dropped"] == total
            try:
                wait_for(accounted, 60, "delivered + dropped to reach the "
                         "%d records written" % total, interval=0.2)
            except AssertionError as e:
                self.fail("%s: delivered %d + dropped %d\n%s"
                          % (e, seen["kept"], seen["dropped"],
                             self.all_logs()))
        out = self.assertPipeOk(p, timeout=90)
        self.assertEqual(int(summary_fields(out)["records"]), total,
                         "records the pipe read")

        kept = self._delivered(col, truth)
        holes = self._dropped(col, host)
        self.assertLess(sum(kept.values()), total, "a 2 MiB spool held "
                        "the whole input: the test proves nothing")
        self.assertEqual(sum(kept.values()) + sum(holes.values()), total,
                         "delivered %d + dropped (gaps) %d != written %d"
                         % (sum(kept.values()), sum(holes.values()), total))
        bad = ["%s: delivered %d + dropped %d != written %d"
               % (h, kept.get(h, 0), holes.get(h, 0), written.get(h, 0))
               for h in sorted(set(written) | set(kept) | set(holes))
               if kept.get(h, 0) + holes.get(h, 0) != written.get(h, 0)]
        if bad:
            self.fail("%d hours do not add up:\n%s" % (len(bad),
                                                       "\n".join(bad[:20])))
        self.assertCollectorStops(col)

    def _delivered(self, col, truth):
        """Records in the rollups, per hour."""
        frm, to = day_range(truth)
        kept = {}
        for (hour, _), vals in export(col.db, frm, to, "isp").items():
            kept[hour] = kept.get(hour, 0) + sum(
                vals[COUNTERS.index(c)] for c in RECORD_COUNTERS)
        return kept

    def _dropped(self, col, host):
        """Records declared lost by gaps, per hour."""
        holes = {}
        for (hour, h), (n, reason) in gaps(col.db).items():
            self.assertEqual(h, host)
            self.assertTrue(reason, "a gap without a reason")
            holes[hour] = holes.get(hour, 0) + n
        return holes

    def test_collector_back_before_end_of_input(self):
        self._run(eof_before_collector=False)

    def test_end_of_input_while_spool_full(self):
        self._run(eof_before_collector=True)


if __name__ == "__main__":
    unittest.main()
