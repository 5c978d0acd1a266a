"""Failover: a three-node OpenBao Raft cluster on loopback loses its leader while eight
clients resolve a team key through nxuskitd in a loop (issue 13).

Resolves keep succeeding: from the daemon's cache while no node can serve (the election),
then from whichever node answers once a new leader is elected (``address`` lists all
three). A key rotated after the failover is seen within the TTL. The longest resolve and
the number of failed ones are printed (target: none failed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from nxuskit import auth_resolve
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import wait_until
from tests.integration.openbao import READ_POLICY, Hammer, never_shown, team_table
from tests.integration.openbao_cluster import RaftCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
TEAM_KEY = "sk-team-cluster-4c1f0b2e"
CACHE_TTL = 2.0


@pytest.fixture
def cluster(sandbox: Sandbox) -> Iterator[RaftCluster]:
    raft = RaftCluster(sandbox.root / "raft")
    try:
        raft.start()
        leader = raft.active()
        assert leader is not None
        leader.cli("secrets", "enable", "-path=secret", "kv-v2")
        leader.policy("nxuskit-read", READ_POLICY)
        leader.put("secret/nxuskit/openai", api_key=TEAM_KEY)
        leader.put("secret/nxuskit/groq", api_key=TEAM_KEY + "-groq")
        yield raft
    finally:
        raft.stop()


def test_resolves_keep_succeeding_when_the_leader_dies(
    sandbox: Sandbox, daemon: Daemon, cluster: RaftCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    leader = cluster.active()
    assert leader is not None
    sandbox.write_config(
        team_table(cluster.addresses, cache_ttl=CACHE_TTL, max_stale=300, timeout=2)
    )
    token = leader.create_token("-policy=nxuskit-read", "-ttl=1h")
    assert run_cli(sandbox, "team", "login", input=token).returncode == 0
    assert auth_resolve("openai").secret == TEAM_KEY
    assert auth_resolve("groq").secret == TEAM_KEY + "-groq"

    with Hammer(clients=8) as hammer:
        assert wait_until(lambda: hammer.resolves > 200, timeout=60)
        leader.kill()  # SIGKILL: the active node crashes
        killed = time.monotonic()
        elected = cluster.wait(lambda: cluster.active() is not None, "a new leader")
        new_leader = cluster.active()
        assert new_leader is not None
        assert new_leader is not leader
        version = new_leader.put("secret/nxuskit/openai", api_key=TEAM_KEY + "-rotated")
        rotated = time.monotonic()
        assert wait_until(
            lambda: auth_resolve("openai").secret == TEAM_KEY + "-rotated",
            timeout=CACHE_TTL + 10,
        )
        seen_after = time.monotonic() - rotated
        during = hammer.resolves
        assert wait_until(lambda: hammer.resolves > during + 200, timeout=60)
    with capsys.disabled():
        print(
            f"\nteam failover: {hammer.resolves} resolves by 8 clients, "
            f"{len(hammer.failures)} failed, longest {hammer.longest * 1000:.0f} ms; "
            f"new leader {elected:.1f} s after the kill, rotated key (version {version}) "
            f"seen {seen_after:.1f} s after the write ({time.monotonic() - killed:.0f} s in all)"
        )
    assert hammer.failures == []
    # the daemon moved on from the dead node (standbys of OpenBao 2 serve reads, and the
    # cache covers the rest; docs/team.md)
    log = daemon.log()
    assert f"({leader.address}: connection refused)" in log
    served_by = run_cli(sandbox, "provider", "status", "openai", "--json").stdout
    assert leader.address not in served_by
    assert new_leader.address in served_by or any(a in served_by for a in cluster.addresses)
    never_shown([token, TEAM_KEY], log)
