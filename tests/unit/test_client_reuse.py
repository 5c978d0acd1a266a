"""The client's side of the cache (``nxuskit.reuse``): when a kept answer is given again.

A real generation file (made by the daemon's own ``Generation``) and a clock the test
moves; the whole path through real daemons is tests/integration/test_client_cache.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nxuskit import reuse
from nxuskit.answers import Resolution, Reuse
from nxuskit.registry import Registry, load
from nxuskitd.generation import Generation


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(reuse, "_monotonic", fake)
    return fake


@pytest.fixture
def published(tmp_path: Path) -> Iterator[Generation]:
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    generation = Generation(str(directory / "nxuskitd.sock.generation"))
    yield generation
    generation.close()


@pytest.fixture
def cache(published: Generation, monkeypatch: pytest.MonkeyPatch) -> reuse.ReuseCache:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("NXUSKIT_CLIENT_CACHE", raising=False)
    assert published.path is not None
    socket = published.path.removesuffix(".generation")
    return reuse.ReuseCache(lambda: socket)


def stored(
    secret: str, generation: int, seconds: float = 60.0, idle: float | None = 10.0
) -> Resolution:
    return Resolution("openai", secret, "store", "api_key", None, Reuse(generation, seconds, idle))


def keep(
    cache: reuse.ReuseCache, answer: Resolution, now: float, reg: Registry | None = None
) -> None:
    reg = reg or load()
    cache.keep("openai", reg, reg.get("openai"), answer, now)


def test_a_kept_answer_is_given_while_the_generation_holds(
    cache: reuse.ReuseCache, published: Generation, clock: Clock
) -> None:
    answer = stored("sk-1", published.value)
    keep(cache, answer, clock.now)
    assert cache.get("openai") is answer
    assert cache.get("gpt") is None  # kept by the name as written
    published.bump()
    assert cache.get("openai") is None


def test_an_answer_kept_under_an_older_generation_is_never_given(
    cache: reuse.ReuseCache, published: Generation, clock: Clock
) -> None:
    keep(cache, stored("sk-1", published.value - 1), clock.now)
    assert cache.get("openai") is None


def test_the_time_limits_hold(cache: reuse.ReuseCache, published: Generation, clock: Clock) -> None:
    keep(cache, stored("sk-1", published.value, seconds=30.0, idle=10.0), clock.now)
    for _ in range(3):  # each reuse restarts the idle clock, as a daemon use would
        clock.now += 9.0
        assert cache.get("openai") is not None
    clock.now += 9.0
    assert cache.get("openai") is None  # 30 s from the request are over
    keep(cache, stored("sk-1", published.value, seconds=30.0, idle=10.0), clock.now)
    clock.now += 10.0
    assert cache.get("openai") is None  # 10 s without a reuse


def test_the_environment_wins_at_once(
    cache: reuse.ReuseCache, published: Generation, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep(cache, stored("sk-1", published.value), clock.now)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert cache.get("openai") is None  # asked again: precedence gives the variable
    from_env = Resolution("openai", "sk-env", "env", "api_key")
    keep(cache, from_env, clock.now)
    assert cache.get("openai") is from_env
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-2")
    assert cache.get("openai") is None
    monkeypatch.setenv("OPENAI_API_KEY", "")  # empty counts as unset, as precedence says
    assert cache.get("openai") is not None
    assert cache.get("openai").source == "store"  # type: ignore[union-attr]


def test_an_answer_its_caller_changed_is_not_given_again(
    cache: reuse.ReuseCache, published: Generation, clock: Clock
) -> None:
    answer = stored("sk-1", published.value)
    keep(cache, answer, clock.now)
    answer.secret = None
    assert cache.get("openai") is None


def test_what_no_generation_announces_is_looked_at_again(
    cache: reuse.ReuseCache, published: Generation, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep(cache, stored("sk-1", published.value), clock.now)
    clock.now += reuse.CHECK_INTERVAL
    assert cache.get("openai") is not None  # looked again: nothing changed
    monkeypatch.setenv("NXUSKIT_CLIENT_CACHE", "off")
    clock.now += reuse.CHECK_INTERVAL
    assert cache.get("openai") is None
    assert len(cache) == 0
    monkeypatch.delenv("NXUSKIT_CLIENT_CACHE")
    other = Registry(load().providers)  # config.toml changed: another registry
    keep(cache, stored("sk-1", published.value), clock.now, other)
    clock.now += reuse.CHECK_INTERVAL
    assert cache.get("openai") is None
    assert len(cache) == 0


def test_a_new_generation_file_empties_the_cache(
    cache: reuse.ReuseCache, published: Generation, clock: Clock
) -> None:
    keep(cache, stored("sk-1", published.value), clock.now)
    assert published.path is not None
    Path(published.path).unlink()  # a new daemon after someone removed the directory's files
    Generation(published.path)
    clock.now += reuse.CHECK_INTERVAL
    assert cache.get("openai") is None
