"""A warm resolve of a team key through nxuskitd vs a direct hvac KV v2 read of the same
secret: ``python bench/team_vs_hvac.py [--rounds N] [--calls N] [--output FILE]``
(``make bench-team``).

Starts a real OpenBao (``bao server -dev`` on loopback, as the tests do), puts one key,
starts an nxuskitd whose ``[team]`` points at it and logs it in with a read-only token.
Then it alternates rounds of ``nxuskit.auth_resolve`` (warm: the daemon serves the key
from its cache, over its socket) and of ``hvac.Client.secrets.kv.v2.read_secret_version``
with a kept-alive connection (what an app does without nxuskit), and a cold resolve
(``daemon_lock`` first: the daemon reads the token and the key again). Prints the
medians, p99 and the ratio, all from this one run, and writes them to ``--output``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import harness  # noqa: E402
from harness import applied, latencies, percentile, spread  # noqa: E402

KEY = "sk-bench-team-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--output", default=str(HERE / "RESULTS-team.md"))
    args = parser.parse_args()

    from tests.integration.openbao import READ_POLICY, start_dev_server, team_table

    server = start_dev_server(Path(tempfile.mkdtemp(prefix="nxb-bao-", dir="/tmp")))
    try:
        server.policy("nxuskit-read", READ_POLICY)
        server.put("secret/nxuskit/openai", api_key=KEY)
        token = server.create_token("-policy=nxuskit-read", "-ttl=1h")
        with harness.sandbox() as box:
            config = box.root / "config" / "nxuskit" / "config.toml"
            config.parent.mkdir(parents=True)
            config.write_text(team_table(server.address))
            daemon = harness.start_daemon(box)
            try:
                results = measure(box, server.address, token, args.rounds, args.calls)
            finally:
                harness.stop(daemon)
    finally:
        server.kill()
    text = report(results, args.rounds * args.calls)
    print(text)
    if args.output != "/dev/null":
        Path(args.output).write_text(text)


def measure(
    box: harness.Sandbox, address: str, token: str, rounds: int, calls: int
) -> dict[str, list[float]]:
    import hvac
    import requests

    import nxuskit
    from nxuskit.client import Client, reset_default

    session = requests.Session()
    session.trust_env = False
    direct = hvac.Client(url=address, token=token, session=session)

    def hvac_read() -> str:
        answer = direct.secrets.kv.v2.read_secret_version(
            path="nxuskit/openai", mount_point="secret", raise_on_deleted_version=True
        )
        return str(answer["data"]["data"]["api_key"])

    results: dict[str, list[float]] = {"daemon": [], "hvac": [], "cold": []}
    with applied(box.env):
        reset_default()
        with Client() as client:
            client.team_login(token)
        resolved = nxuskit.auth_resolve("openai")
        assert (resolved.secret, resolved.source) == (KEY, "team"), resolved
        assert hvac_read() == KEY

        def cold() -> None:
            nxuskit.daemon_lock()
            start = time.perf_counter_ns()
            nxuskit.auth_resolve("openai")
            results["cold"].append((time.perf_counter_ns() - start) / 1000)

        for _ in range(rounds):
            results["daemon"] += latencies(lambda: nxuskit.auth_resolve("openai"), calls)
            results["hvac"] += latencies(hvac_read, calls)
            for _ in range(max(1, calls // 20)):
                cold()
        reset_default()
    return results


def report(results: dict[str, list[float]], count: int) -> str:
    import statistics

    daemon, direct = statistics.median(results["daemon"]), statistics.median(results["hvac"])
    p99 = percentile(results["daemon"], 0.99), percentile(results["hvac"], 0.99)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("warm resolve of a team key through nxuskitd (us)", spread(results["daemon"])),
        ("direct hvac KV v2 read, kept-alive connection (us)", spread(results["hvac"])),
        ("cold resolve: daemon lock, then token and key read again (us)",
         spread(results["cold"])),
        ("p99: nxuskitd / hvac (us)", f"{p99[0]:.0f} / {p99[1]:.0f}"),
        ("ratio hvac read / warm nxuskitd resolve (p50)", f"{direct / daemon:.1f}x faster"),
    ]  # fmt: skip
    lines = [
        "# Team store benchmark",
        "",
        f"- date: {now}",
        f"- machine: {platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"- command: `make bench-team` (`python bench/team_vs_hvac.py`), {count} calls each,"
        " alternated in rounds; OpenBao `bao server -dev` on loopback",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
