"""The log limiters, on a clock the test turns by hand: a flood becomes a few counted lines,
a lasting failure one line per cause."""

from __future__ import annotations

import logging

import pytest

from nxuskitd.ratelimit import OncePerCause, RateLimitedLog

LOGGER = "nxuskitd.test-ratelimit"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(clock: Clock) -> RateLimitedLog:
    return RateLimitedLog(logging.getLogger(LOGGER), interval=10.0, clock=clock)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


def test_a_flood_is_one_line_then_one_counted_line_per_interval(
    limited: RateLimitedLog, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert limited.warning("uid 65534", "refused 1")
        for number in range(2, 2001):
            clock.now += 0.001
            assert not limited.warning("uid 65534", f"refused {number}")
        clock.now += 10.0
        assert limited.warning("uid 65534", "refused 2001")
    assert lines(caplog) == ["refused 1", "refused 2001 (and 1999 more like it in the last 12s)"]


def test_flush_counts_a_flood_that_stopped(
    limited: RateLimitedLog, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        limited.warning("busy", "busy 1")
        for number in range(2, 6):
            limited.warning("busy", f"busy {number}")
        limited.flush()  # within the interval: nothing yet
        clock.now += 10.0
        limited.flush()
        limited.flush()  # counted once only
        clock.now += 10.0
        limited.flush()  # a quiet interval: the key is forgotten
        assert limited.warning("busy", "busy again")  # so the next one is logged at once
    assert lines(caplog) == ["busy 1", "busy 5 (and 3 more like it in the last 10s)", "busy again"]


def test_a_final_flush_counts_what_is_held_at_once(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # A login's callback listener: refusals one a second for two and a half minutes, then
    # the listener closes and says what it held back, without waiting for the interval.
    limited = RateLimitedLog(logging.getLogger(LOGGER), interval=60.0, clock=clock)
    start = clock.now
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for second in range(150):
            clock.now = start + second
            limited.warning("wrong host", "refused (x)")
        limited.flush(final=True)
        limited.flush(final=True)  # counted once only
    assert lines(caplog) == [
        "refused (x)",
        "refused (x) (and 59 more like it in the last 60s)",
        "refused (x) (and 59 more like it in the last 60s)",
        "refused (x) (and 28 more like it in the last 29s)",  # this line stands for one more
    ]


def test_keys_are_limited_separately(
    limited: RateLimitedLog, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert limited.warning("uid 1001", "from 1001")
        assert limited.warning("uid 1002", "from 1002")
        assert not limited.warning("uid 1001", "from 1001 again")
    assert lines(caplog) == ["from 1001", "from 1002"]


def test_once_per_cause_until_recovered(caplog: pytest.LogCaptureFixture) -> None:
    failures = OncePerCause(logging.getLogger(LOGGER))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(5):
            failures.warning("store.json is corrupt")
        failures.warning("store.json is readable by others")
        failures.recovered("works again")
        failures.recovered("works again")  # said once
        failures.warning("store.json is corrupt")  # back after working: logged again
    assert lines(caplog) == [
        "store.json is corrupt",
        "store.json is readable by others",
        "works again",
        "store.json is corrupt",
    ]


def test_once_per_cause_remembers_a_bounded_number(caplog: pytest.LogCaptureFixture) -> None:
    failures = OncePerCause(logging.getLogger(LOGGER), limit=3)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for number in range(10):
            failures.warning(f"cause {number}")
    assert len(lines(caplog)) == 10
    assert len(failures._seen) <= 3
