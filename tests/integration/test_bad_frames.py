"""
The collector's border: garbage, a truncated batch, an oversized frame, a
batch of another schema and a message of another type each get an answer
(Ack, status REJECTED, with a reason), the reason is logged, and a
well-behaved pipe sending at the same time is not disturbed: its numbers
are exact.

The frames are spoken in nng's SP protocol from Python (mtascope_it.SpReq)
and the protobuf is encoded by hand, so that what is sent is exactly what
the test says.  A valid hand-made batch goes first: it must be accepted
and counted, which shows the client speaks the protocol, so the
rejections below are the collector's judgement and not a framing error.
"""

import datetime
import os
import time
import unittest

from mtascope_it import (ITCase, SpReq, day_range, decode_ack, export,
                         feed_in_thread, hour_name, only_hosts, pb_bytes,
                         pb_packed, pb_varint)

MAX_FRAME = 65536
OK, REJECTED = 0, 1
HAND_HOST = "handmade-01"
# 2026-11-01 05:17:00Z, inside the simulated period.
HAND_TIME = int(datetime.datetime(2026, 11, 1, 5, 17, tzinfo=datetime.
                                  timezone.utc).timestamp())


def hand_batch(seq, schema=1, n=3, size=1000):
    """A Batch of n delivered records to gmail.com from 192.0.2.7 (no
    sessions), by hand: the collector must count delivered=n and
    bytes=n*size under (hour, google, HAND_HOST, 192.0.2.7)."""
    strings = ["", "gmail.com", "192.0.2.7", "203.0.113.9"]
    zeros = [0] * n
    records = b"".join([
        pb_packed(1, [1] * n),                      # type D
        pb_packed(2, [HAND_TIME + i for i in range(n)]),
        pb_packed(3, [HAND_TIME - 60] * n),
        pb_packed(4, [1] * n),                      # rcpt_domain
        pb_packed(5, zeros), pb_packed(6, zeros), pb_packed(7, zeros),
        pb_packed(8, zeros), pb_packed(9, zeros),
        pb_packed(10, [2] * n),                     # source_ip
        pb_packed(11, [3] * n),                     # destination_ip
        pb_packed(12, zeros), pb_packed(13, zeros), pb_packed(14, zeros),
        pb_packed(15, zeros),
        pb_packed(16, [size] * n),
        pb_packed(17, zeros),
        pb_packed(18, [i + 2 for i in range(n)]),
    ])
    return b"".join([
        pb_varint(1, schema),
        pb_bytes(2, HAND_HOST),
        pb_bytes(3, "0123456789abcdef"),
        pb_varint(4, seq),
        pb_bytes(5, records),
        pb_varint(9, HAND_TIME + 60),
    ] + [pb_bytes(10, s) for s in strings])


def hand_ack():
    """An mtascope.v1.Ack, a valid message of the wrong type."""
    return (pb_varint(1, 7) + pb_varint(2, 1) + pb_bytes(3, "not a batch") +
            pb_bytes(4, "0123456789abcdef"))


def hand_row(n, size=1000):
    key = (hour_name(HAND_TIME // 3600), "google", HAND_HOST, "192.0.2.7")
    return {key: [n, 0, 0, 0, 0, 0, 0, 0, n * size]}


class BadFramesTest(ITCase):

    def test_bad_frames_are_refused_and_harm_nobody(self):
        sim = self.simulate(hosts=1, days=2, rate=20000, seed=71)
        host = sim.hosts[0]
        truth = sim.truth()
        frm, to = day_range(truth)
        col = self.collector(extra=["--max-frame", str(MAX_FRAME)])
        p = self.pipe(col, host, extra=["--batch-records", "200",
                                        "--batch-ms", "100",
                                        "--drain-timeout", "60"])
        data = sim.csv(host)
        # Spread over a few seconds so the bad frames arrive mid-stream.
        feeder = feed_in_thread(p, data, chunk=64 * 1024,
                                pause=3.0 / (len(data) / 65536))

        good = hand_batch(seq=1)
        self.assertLess(len(good), MAX_FRAME)
        cut = good[:len(good) // 2]
        cases = [
            ("garbage", b"\xff\xfe\xfd not protobuf \x00\x01" * 8, None),
            ("truncated batch", cut, None),
            ("oversized frame", os.urandom(70000), ("70000", "65536")),
            ("schema 2", hand_batch(seq=2, schema=2), ("schema",)),
            ("an Ack", hand_ack(), None),
        ]

        sp = SpReq(col.port)
        self.addCleanup(sp.close)
        # The protocol works: a valid batch is taken and counted once.
        seq, status, reason, spool_id = decode_ack(sp.request(good))
        self.assertEqual((seq, status, spool_id),
                         (1, OK, "0123456789abcdef"),
                         "Ack of a valid batch (reason %r)" % reason)
        seq, status, reason, _ = decode_ack(sp.request(good))
        self.assertEqual(status, OK, "Ack of a resent batch")

        for name, frame, words in cases:
            # Each bad frame on the shared connection and on one of its
            # own: the collector answers both and keeps the connection.
            for conn in (sp, None):
                own = conn or SpReq(col.port)
                try:
                    _, status, reason, _ = decode_ack(own.request(frame))
                finally:
                    if conn is None:
                        own.close()
                self.assertEqual(status, REJECTED,
                                 "%s: Ack status %d (reason %r)"
                                 % (name, status, reason))
                self.assertTrue(reason.strip(), "%s: empty reason" % name)
                for w in words or ():
                    self.assertIn(w, reason, "%s: reason" % name)
                self.assertTrue(self._logged(col, reason),
                                "%s: no log line \"batch rejected: %s\"\n%s"
                                % (name, reason, col.logs()))

        # Beyond twice the limit the frame is not even read: the
        # connection may be dropped, but the collector must not hang or
        # fall over.
        rejects = 2 * len(cases)
        big = SpReq(col.port)
        try:
            _, status, reason, _ = decode_ack(big.request(os.urandom(
                2 * MAX_FRAME + 4096)))
            self.assertEqual(status, REJECTED, "huge frame: %r" % reason)
            rejects += 1
        except ConnectionError:
            pass
        finally:
            big.close()
        self.assertTrue(col.proc.running(), "mtascoped died")

        # The connection is still good after all that.
        _, status, reason, _ = decode_ack(sp.request(hand_batch(seq=3)))
        self.assertEqual(status, OK, "valid batch after the bad ones: %r"
                         % reason)

        feeder.join(120)
        self.assertFalse(feeder.is_alive(), "feeding the pipe hung")
        self.assertIsNone(feeder.result["error"])
        self.assertTrue(feeder.result["written"] == len(data))
        self.assertPipeOk(p, timeout=60, summary=sim.summary(host))

        want = dict(only_hosts(truth, [host]))
        # seq 1 (sent twice) and seq 3; seq 2 was of schema 2.
        want.update(hand_row(6))
        self.assertRows(export(col.db, frm, to), want,
                        "export next to bad frames")
        self.assertCollectorStops(col)
        self.assertIn(" %d rejected," % rejects, col.logs())

    def _logged(self, col, reason):
        # The log line is written before the answer is sent, but give the
        # file a moment anyway.
        for _ in range(20):
            if "batch rejected: " + reason in col.logs():
                return True
            time.sleep(0.05)
        return False


if __name__ == "__main__":
    unittest.main()
