"""A three-node OpenBao cluster with integrated storage (Raft) on loopback, for the
failover test: three real ``bao server`` processes, initialised and unsealed here.

Every port (three API listeners, three cluster listeners) comes from the OS, so nothing
fixed can collide with another run. ``performance_multiplier = 1`` keeps Raft's timings
tight (a new leader in a few seconds).
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.openbao import Bao, free_port

NODES = 3


def _config(node: int, data: Path, api: list[int], cluster: int) -> str:
    joins = "".join(
        f'  retry_join {{\n    leader_api_addr = "http://127.0.0.1:{port}"\n  }}\n' for port in api
    )
    return (
        f'storage "raft" {{\n  path = "{data}"\n  node_id = "node{node}"\n'
        f"  performance_multiplier = 1\n{joins}}}\n"
        f'listener "tcp" {{\n  address = "127.0.0.1:{api[node]}"\n'
        f'  cluster_address = "127.0.0.1:{cluster}"\n  tls_disable = true\n}}\n'
        f'api_addr = "http://127.0.0.1:{api[node]}"\n'
        f'cluster_addr = "https://127.0.0.1:{cluster}"\n'
        "disable_mlock = true\n"
    )


class RaftCluster:
    """Three nodes; ``start`` initialises, unseals and joins them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: list[Bao] = []
        self.unseal_key = ""

    @property
    def addresses(self) -> list[str]:
        return [node.address for node in self.nodes]

    def start(self) -> None:
        api = [free_port() for _ in range(NODES)]
        cluster = [free_port() for _ in range(NODES)]
        for index in range(NODES):
            directory = self.root / f"node{index}"
            (directory / "data").mkdir(parents=True)
            config = directory / "config.hcl"
            config.write_text(_config(index, directory / "data", api, cluster[index]))
            node = Bao(directory, f"node{index}", f"http://127.0.0.1:{api[index]}")
            node.start(f"-config={config}")
            self.nodes.append(node)
        for node in self.nodes:
            node.wait_answering()
        first = self.nodes[0]
        init = first.json("operator", "init", "-key-shares=1", "-key-threshold=1")
        self.unseal_key = init["unseal_keys_b64"][0]
        for node in self.nodes:
            node.token = init["root_token"]
        first.cli("operator", "unseal", self.unseal_key)
        self.wait(lambda: self.active() is first, "node0 to become the leader")
        for node in self.nodes[1:]:  # each joins through retry_join, then is unsealed
            self.wait(lambda node=node: self._unseal(node), f"{node.name} to join")
        self.wait(self._all_voters, "three voters in the Raft configuration")

    def _unseal(self, node: Bao) -> bool:
        health = node.health() or {}
        if health.get("sealed") is False:
            return True
        node.cli("operator", "unseal", self.unseal_key, check=False)
        return False

    def _all_voters(self) -> bool:
        leader = self.active()
        if leader is None:
            return False
        peers = leader.json("operator", "raft", "list-peers")["data"]["config"]["servers"]
        return len(peers) == NODES and all(peer["voter"] for peer in peers)

    def active(self) -> Bao | None:
        """The node that is the leader now (None during an election)."""
        for node in self.nodes:
            if not node.alive():
                continue
            health = node.health() or {}
            if health.get("sealed") is False and health.get("standby") is False:
                return node
        return None

    def wait(self, condition: object, what: str, timeout: float = 60) -> float:
        """Poll ``condition`` until true; the seconds it took."""
        began = time.monotonic()
        while not condition():  # type: ignore[operator]
            if time.monotonic() - began > timeout:
                logs = "\n".join(node.log()[-2000:] for node in self.nodes)
                raise AssertionError(f"timed out waiting for {what}:\n{logs}")
            time.sleep(0.1)
        return time.monotonic() - began

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()
