"""A resolve served from nxuskitd's session vs ``keyring.get_password`` on the same
Secret Service: ``python bench/keyring_vs_daemon.py [--rounds N] [--calls N]``.

Starts a private D-Bus bus with gnome-keyring (as the tests do), an nxuskitd with
``--store keyring`` on it, stores one key, then alternates rounds of
``nxuskit.auth_resolve`` (warm: served from the daemon's memory over its socket), of
``keyring.get_password`` in this process (what an app does without nxuskit), and of a
cold resolve (``daemon_lock`` first, so the daemon reads the keyring once). Prints the
medians and the ratio, all measured in this one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import harness  # noqa: E402
from harness import applied, latencies, spread  # noqa: E402

KEY = "sk-bench-keyring-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()

    import tempfile

    from tests.integration.secret_service import SecretService

    service = SecretService(Path(tempfile.mkdtemp(prefix="nxb-ss-", dir="/tmp")))
    try:
        service.start_keyring()
        with harness.sandbox() as box:
            box.env.update(service.env)
            daemon = harness.start_daemon(box, "--store", "keyring")
            try:
                results = measure(box, args.rounds, args.calls)
            finally:
                harness.stop(daemon)
    finally:
        service.close()
    report(results, args.rounds * args.calls)


def measure(box: harness.Sandbox, rounds: int, calls: int) -> dict[str, list[float]]:
    import keyring

    import nxuskit
    from nxuskit.client import reset_default

    results: dict[str, list[float]] = {"daemon": [], "keyring": [], "cold": []}
    with applied(box.env):
        reset_default()
        nxuskit.auth_set_credential("openai", KEY)
        backend = keyring.get_keyring()
        assert type(backend).__module__ == "keyring.backends.SecretService", backend
        assert nxuskit.store_info().kind == "keyring"
        assert nxuskit.auth_resolve("openai").secret == KEY
        assert KEY in (keyring.get_password("nxuskit", "openai") or "")

        def cold() -> object:
            nxuskit.daemon_lock()
            start = time.perf_counter_ns()
            nxuskit.auth_resolve("openai")
            results["cold"].append((time.perf_counter_ns() - start) / 1000)
            return None

        for _ in range(rounds):
            results["daemon"] += latencies(lambda: nxuskit.auth_resolve("openai"), calls)
            results["keyring"] += latencies(
                lambda: keyring.get_password("nxuskit", "openai"), calls
            )
            for _ in range(max(1, calls // 4)):
                cold()
        reads = nxuskit.daemon_status()["cache"]["store_reads"]
        reset_default()
    results["store_reads"] = [float(reads)]
    return results


def report(results: dict[str, list[float]], count: int) -> None:
    daemon = statistics.median(results["daemon"])
    direct = statistics.median(results["keyring"])
    cold = statistics.median(results["cold"])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {count} calls each")
    print(f"warm resolve from the daemon's session (us):  {spread(results['daemon'])}")
    print(f"keyring.get_password, same Secret Service (us): {spread(results['keyring'])}")
    print(f"cold resolve (daemon lock, then one keyring read) (us): {spread(results['cold'])}")
    print(f"ratio keyring.get_password / warm daemon resolve: {direct / daemon:.1f}x")
    print(f"ratio cold daemon resolve / keyring.get_password: {cold / direct:.2f}x")
    print(f"keyring reads by the daemon: {results['store_reads'][0]:.0f}")


if __name__ == "__main__":
    main()
