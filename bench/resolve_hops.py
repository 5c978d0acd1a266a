"""The warm resolve path as a list of hops: calls into our code and module switches.

    .venv/bin/python bench/resolve_hops.py

Starts a daemon in a private sandbox, warms a ``Client`` (connected, config read, answer
cached), then records with ``sys.setprofile`` every Python call made by one more
``auth_resolve``: once with the client cache off (a round trip) and once with it on (the
answer reused from memory). Counts only functions of nxuskit (the client package); the
daemon's side is counted by bench/daemon_profile.py. Prints the hops in order, so the
path can be read, not only counted.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import applied, sandbox, start_daemon, stop, write_store

OURS = ("nxuskit",)


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", "?"))


def trace(call: object) -> list[tuple[str, str]]:
    """The module and qualified name of each of our functions ``call()`` entered, in order."""
    seen: list[tuple[str, str]] = []

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event != "call":
            return
        module = _module(frame)
        if module.split(".")[0] in OURS:
            seen.append((module, frame.f_code.co_qualname))

    sys.setprofile(profile)
    try:
        call()  # type: ignore[operator]
    finally:
        sys.setprofile(None)
    return seen


def report(title: str, hops: list[tuple[str, str]]) -> None:
    modules = [module for module, _ in hops]
    switches = sum(1 for before, after in itertools.pairwise(modules) if before != after)
    print(f"\n{title}: {len(hops)} calls into nxuskit, {switches} module switches")
    previous = None
    for module, name in hops:
        mark = "->" if module != previous else "  "
        print(f"  {mark} {module}.{name}")
        previous = module


def main() -> None:
    with sandbox() as box:
        write_store(box, 8)
        daemon = start_daemon(box)
        try:
            for cache in ("0", "1"):
                env = dict(box.env, NXUSKIT_CLIENT_CACHE=cache)
                with applied(env):
                    import nxuskit

                    client = nxuskit.Client()
                    for _ in range(3):  # connect, read config.toml, map the generation file
                        client.auth_resolve("openai")
                        time.sleep(0.01)
                    hops = trace(lambda client=client: client.auth_resolve("openai"))
                    client.close()
                label = "round trip (NXUSKIT_CLIENT_CACHE=0)" if cache == "0" else "cached"
                report(f"warm resolve, {label}", hops)
        finally:
            stop(daemon)
    print(f"\n(python {sys.version.split()[0]}, pid {os.getpid()})")


if __name__ == "__main__":
    main()
