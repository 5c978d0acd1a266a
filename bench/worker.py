"""One load-generating process for the throughput benchmark.

usage: worker.py {nxuskit|agent} AGENT_SOCKET START_AT DURATION
Waits until START_AT (a time.time() value), calls for DURATION seconds, prints its count.
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    kind, agent_path, start_at, duration = (
        sys.argv[1],
        sys.argv[2],
        float(sys.argv[3]),
        float(sys.argv[4]),
    )
    if kind == "nxuskit":
        import nxuskit

        def call() -> object:
            return nxuskit.auth_resolve("openai")
    else:
        from harness import AgentClient

        client = AgentClient(agent_path)
        call = client.identities
    call()  # connect and warm up before the start line
    time.sleep(max(0.0, start_at - time.time()))
    end = time.time() + duration
    count = 0
    while time.time() < end:
        call()
        count += 1
    print(count)


if __name__ == "__main__":
    main()
