"""``close_quietly``: what the memory, an abandoned opening of the stores and the
window's end use to close their parts."""

from __future__ import annotations

import logging

import pytest

from dl_app.closing import close_quietly


class Part:
    def __init__(self, fails: bool = False) -> None:
        self.fails, self.closed = fails, 0

    def close(self) -> None:
        self.closed += 1
        if self.fails:
            raise OSError("disk gone")


def test_a_part_that_fails_to_close_is_logged_and_the_others_still_close(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, broken, last = Part(), Part(fails=True), Part()
    with caplog.at_level(logging.ERROR, logger="dl_app.closing"):
        close_quietly(first, broken, None, object(), last, what="a store")
    assert (first.closed, broken.closed, last.closed) == (1, 1, 1)
    [record] = caplog.records
    assert record.getMessage() == "closing a store failed"
    assert record.exc_info is not None and "disk gone" in str(record.exc_info[1])


def test_what_stops_the_program_is_not_swallowed() -> None:
    class Interrupted:
        def close(self) -> None:
            raise KeyboardInterrupt

    after = Part()
    with pytest.raises(KeyboardInterrupt):
        close_quietly(Interrupted(), after, what="a client")
    assert after.closed == 0
