"""Security properties, each checked against a real nxuskitd process.

The runtime directory and the socket are private from birth; a loose, foreign or
symlinked directory stops the daemon with a message that says what to fix; other uids
are refused even when someone loosened the modes; no secret reaches a log, an error or a
status answer; the process cannot dump core and is not dumpable.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import secrets
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import nxuskit
from nxuskit import protocol
from nxuskit.client import reset_default
from tests.conftest import Daemon, Sandbox, socket_answers
from tests.integration.conftest import NOBODY, as_nobody, can_switch_user, wait_until
from tests.integration.wire import connect, error_kind

# -- the runtime directory and the socket ------------------------------------------------


def test_runtime_directory_and_socket_are_created_private(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    socket_dir = sandbox.socket_path.parent
    assert not socket_dir.exists()
    spawn()
    st = os.lstat(socket_dir)
    assert stat.S_ISDIR(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == os.getuid()
    sock = os.lstat(sandbox.socket_path)
    assert stat.S_ISSOCK(sock.st_mode)
    assert stat.S_IMODE(sock.st_mode) == 0o600
    assert sock.st_uid == os.getuid()


def _loose(box: Sandbox) -> str:
    box.socket_path.parent.mkdir()
    box.socket_path.parent.chmod(0o755)
    return "chmod 700"


def _group_writable(box: Sandbox) -> str:
    box.socket_path.parent.mkdir()
    box.socket_path.parent.chmod(0o770)
    return "chmod 700"


def _symlink(box: Sandbox) -> str:
    elsewhere = box.root / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    box.socket_path.parent.symlink_to(elsewhere)
    return "symlink"


def _foreign(box: Sandbox) -> str:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the directory to another uid")
    box.socket_path.parent.mkdir(mode=0o700)
    os.chown(box.socket_path.parent, NOBODY, NOBODY)
    return f"belongs to uid {NOBODY}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("spoil", [_loose, _group_writable, _symlink, _foreign],
                         ids=["mode-0755", "mode-0770", "symlink", "other-uid"])  # fmt: skip
def test_refuses_an_unsafe_socket_directory(
    sandbox: Sandbox, spawn: Callable[..., Daemon], spoil: Callable[[Sandbox], str]
) -> None:
    fix = spoil(sandbox)
    before = os.lstat(sandbox.socket_path.parent)
    daemon = spawn(wait=False)
    code = daemon.process.wait(15)
    log = daemon.log()
    assert code != 0, log
    assert "cannot start" in log
    assert fix in log
    assert str(sandbox.socket_path.parent) in log
    assert "Traceback" not in log
    # It refused without touching anything: no socket, no lock, modes as they were.
    assert not os.path.lexists(sandbox.socket_path)
    assert not (sandbox.root / "elsewhere" / "nxuskitd.sock").exists()
    after = os.lstat(sandbox.socket_path.parent)
    assert (after.st_mode, after.st_uid) == (before.st_mode, before.st_uid)


_AUDIT_WRAPPER = textwrap.dedent(
    """
    import os, runpy, sys

    def watch(event, args):
        if event == "socket.bind" and isinstance(args[1], str):
            mask = os.umask(0o777)
            os.umask(mask)
            os.write(2, f"AUDIT bind {args[1]} umask={mask:o}\\n".encode())
        elif event == "os.chmod":
            os.write(2, f"AUDIT chmod {args[0]} {args[1]:o}\\n".encode())

    sys.addaudithook(watch)
    sys.argv = ["nxuskitd", *sys.argv[1:]]
    runpy.run_module("nxuskitd", run_name="__main__", alter_sys=True)
    """
)


@pytest.mark.timeout(30)
def test_socket_is_0600_from_birth(sandbox: Sandbox) -> None:
    """No window between bind and chmod: the umask at bind() already makes it 0600.

    The daemon runs under an audit hook that reports the process umask at the moment
    of ``socket.bind``; meanwhile the test polls the path and records every mode seen.
    """
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.add(stat.S_IMODE(os.lstat(sandbox.socket_path).st_mode))

    watcher = threading.Thread(target=watch)
    watcher.start()
    log_path = sandbox.root / "audit.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _AUDIT_WRAPPER, "--store", "file", "--log-level", "debug"],
            env=sandbox.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        assert wait_until(lambda: socket_answers(sandbox.socket_path), timeout=15), (
            log_path.read_text()
        )
        assert wait_until(lambda: seen, timeout=10)  # the watcher ran since the socket appeared
        done.set()
        watcher.join()
        mode = stat.S_IMODE(os.lstat(sandbox.socket_path).st_mode)
    finally:
        done.set()
        watcher.join()
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    text = log_path.read_text()
    binds = re.findall(r"AUDIT bind (\S+) umask=([0-7]+)", text)
    assert binds, text
    assert [path for path, _ in binds] == [str(sandbox.socket_path)]
    umask = int(binds[0][1], 8)
    assert (0o777 & ~umask) & 0o777 == 0o600, f"socket born with mode {0o777 & ~umask:o}"
    assert mode == 0o600
    assert seen == {0o600}, f"modes observed on the socket path: {sorted(map(oct, seen))}"
    assert not re.search(rf"AUDIT chmod {re.escape(str(sandbox.socket_path))} ", text)


# -- other uids --------------------------------------------------------------------------

_NOBODY_CLIENT = textwrap.dedent(
    """
    import json, socket, sys
    path = sys.argv[1]
    out = {}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path)
    try:  # the daemon may refuse and close before the request is even sent
        sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"auth.resolve","params":{"provider":"openai"}}\\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    out["raw"] = received.decode("utf-8", "replace")
    import nxuskit
    try:
        resolution = nxuskit.auth_resolve("openai")
        out["library"] = ["resolved", resolution.secret]
    except nxuskit.NxuskitError as exc:
        out["library"] = [type(exc).__name__, str(exc)]
    print(json.dumps(out))
    """
)


@pytest.mark.root
@pytest.mark.timeout(60)
def test_other_uid_is_refused_even_with_loosened_modes(sandbox: Sandbox, daemon: Daemon) -> None:
    reason = can_switch_user()
    if reason:
        pytest.skip(reason)
    secret = f"sk-nobody-must-not-see-{secrets.token_hex(8)}"
    nxuskit.auth_set_credential("openai", secret)
    assert nxuskit.auth_resolve("openai").secret == secret
    # Someone careless opens everything up: the peer-uid check must still hold.
    for directory, mode in ((sandbox.root, 0o755), (sandbox.runtime_dir, 0o755),
                            (sandbox.socket_path.parent, 0o777)):  # fmt: skip
        directory.chmod(mode)
    sandbox.socket_path.chmod(0o666)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "NXUSKIT_SOCKET": str(sandbox.socket_path),
        "NXUSKIT_AUTOSTART": "0",
        "XDG_CONFIG_HOME": "/nonexistent",
    }
    if "PYTHONPATH" in os.environ:  # where nxuskit comes from when not installed in the venv
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result = as_nobody(sys.executable, "-c", _NOBODY_CLIENT, str(sandbox.socket_path), env=env)
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    out = json.loads(result.stdout)
    lines = [json.loads(line) for line in out["raw"].splitlines()]
    assert len(lines) == 1, out["raw"]  # one refusal, then the daemon closed
    assert lines[0]["id"] is None
    assert error_kind(lines[0]) == "permission_denied"
    assert lines[0]["error"]["code"] == nxuskit.PermissionDenied.code
    assert out["library"][0] == "PermissionDenied", out
    daemon_log = daemon.log()
    # The refused peer is named by its uid and (Linux: SO_PEERCRED) its pid.
    assert re.search(rf"refused a connection from uid {NOBODY} pid \d+ \(this daemon", daemon_log)
    # The owner's own client will not use a socket directory others can write to...
    reset_default()
    with pytest.raises(nxuskit.PermissionDenied, match="open to other users"):
        nxuskit.auth_resolve("openai")
    # ...and once it is private again, the daemon still serves its own user.
    sandbox.socket_path.parent.chmod(0o700)
    assert nxuskit.auth_resolve("openai").secret == secret


# -- secrets -----------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_secret_never_leaks_into_logs_errors_or_status(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    daemon = spawn()  # --log-level debug
    secret = f"sk-LEAKCHECK-{secrets.token_hex(12)}"
    seen: list[str] = []  # every error message and status output the secret must stay out of

    nxuskit.auth_set_credential("openai", secret)
    resolution = nxuskit.auth_resolve("openai")
    assert resolution.secret == secret  # the one place it belongs
    seen += [repr(resolution), str(resolution)]
    for status in [nxuskit.auth_status("openai"), *nxuskit.auth_status_all()]:
        seen += [repr(status), json.dumps(status.to_dict())]
    handle = nxuskit.Provider.create("openai")
    seen += [repr(handle), str(handle)]

    bad_requests: list[object] = [
        {"method": "auth.set_credential", "params": {"provider": 7, "secret": secret}},
        {"method": "auth.set_credential", "params": {"provider": ["openai"], "secret": secret}},
        {"method": "auth.set_credential", "params": {"provider": "openai", "secret": [secret]}},
        {"method": "auth.set_credential", "params": {"provider": "openai", "secret": {1: secret}}},
        {"method": "auth.set_credential", "params": {"provider": "ollama", "secret": secret}},
        {"method": "auth.set_credential", "params": {"provider": "openai", "secret": secret + "\n"
                                                                                 + secret}},
        {"method": "auth.set_credential", "params": {"provider": "openai",
                                                     "secret": secret * 500}},
        {"method": "auth.set_credential", "params": [  "openai", secret]},
        {"method": "auth.resolve", "params": {"provider": "no-such", "secret": secret}},
        {"method": "auth.resolve", "params": {"provider": {"secret": secret}}},
        {"method": "auth.resolve", "params": {"provider": secret}},
        {"method": "auth.status", "params": {"provider": secret}},
        {"method": "auth.remove_credential", "params": {"provider": secret}},
        {"method": "auth.set_credential", "params": {"provider": secret, "secret": "openai"}},
        {"method": "auth.steal", "params": {"secret": secret}},
        {"method": f"auth.{secret}", "params": {}},
        {"method": "daemon.hello", "params": {"protocol": secret}},
        {"method": "daemon.hello", "params": "secret=" + secret},
        {"method": secret},
    ]  # fmt: skip
    with connect(sandbox.socket_path) as wire:
        for number, request in enumerate(bad_requests):
            assert isinstance(request, dict)
            answer = wire.request(request["method"], request.get("params"), request_id=number)
            assert "error" in answer, answer
            seen.append(json.dumps(answer))
        for raw in (
            b'{"jsonrpc":"2.0","id":1,"method":"auth.set_credential","params":{"secret":"'
            + secret.encode() + b'"',  # truncated
            b'{"jsonrpc":"1.0","id":2,"method":"auth.set_credential","params":{"provider":'
            b'"openai","secret":"' + secret.encode() + b'"}}',
            b'[{"jsonrpc":"2.0","id":3,"method":"auth.set_credential","params":{"secret":"'
            + secret.encode() + b'"}}, 5]',
            b'{"jsonrpc":"2.0","id":4,"secret":"' + secret.encode() + b'\xff"}',
        ):  # fmt: skip
            wire.send(raw + b"\n")
            line = wire.read_line()
            assert b'"error"' in line, line
            seen.append(line.decode("utf-8", "replace"))
        status = wire.request(protocol.STATUS, {})
        seen.append(json.dumps(status))
        seen.append(json.dumps(wire.request(protocol.STATUS, {"provider": "openai"})))
        seen.append(json.dumps(wire.request(protocol.PROVIDER_LIST, {})))
        seen.append(json.dumps(wire.request(protocol.HELLO, {})))

    for failing in (
        lambda: nxuskit.auth_set_credential("ollama", secret),
        lambda: nxuskit.auth_set_credential("openai", secret * 500),
        lambda: nxuskit.auth_set_credential("openai", f"{secret}\n{secret}"),
        lambda: nxuskit.auth_set_credential(secret, "openai"),  # arguments swapped
        lambda: nxuskit.auth_resolve(secret),
    ):
        with pytest.raises(nxuskit.NxuskitError) as caught:
            failing()
        seen += [str(caught.value), repr(caught.value)]

    assert nxuskit.auth_remove_credential("openai") is True
    with pytest.raises(nxuskit.NotAuthenticated) as missing:
        nxuskit.auth_resolve("openai")
    seen += [str(missing.value), repr(missing.value)]
    seen.append(Path(f"/proc/{daemon.process.pid}/cmdline").read_bytes().decode())

    assert daemon.stop() == 0
    log = daemon.log()
    assert "stored a credential for openai" in log  # the log did record the events
    assert "removed the stored credential of openai" in log
    fragment = secret[len("sk-LEAKCHECK-") :]
    leaks = [text for text in [*seen, log] if fragment in text]
    assert not leaks, leaks


# -- process hardening -------------------------------------------------------------------


def _core_limit(pid: int) -> tuple[str, str]:
    with open(f"/proc/{pid}/limits") as handle:
        for line in handle:
            if line.startswith("Max core file size"):
                soft, hard = line[len("Max core file size") :].split()[:2]
                return soft, hard
    raise AssertionError("no core limit in /proc/<pid>/limits")


_WITH_CORE_DUMPS = (  # raise the soft core limit to the hard one, then become the daemon
    "import os, resource, sys; hard = resource.getrlimit(resource.RLIMIT_CORE)[1]; "
    "resource.setrlimit(resource.RLIMIT_CORE, (hard, hard)); "
    "os.execv(sys.executable, [sys.executable, '-m', 'nxuskitd', *sys.argv[1:]])"
)


@pytest.mark.timeout(30)
def test_daemon_cannot_dump_core(sandbox: Sandbox) -> None:
    """Started with core dumps allowed, the daemon turns them off, soft and hard limit."""
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        pytest.skip("core dumps are already impossible here: the check would prove nothing")
    log_path = sandbox.root / "nxuskitd.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _WITH_CORE_DUMPS, "--store", "file"],
            env=sandbox.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        assert wait_until(lambda: socket_answers(sandbox.socket_path), timeout=15), (
            log_path.read_text()
        )
        assert _core_limit(process.pid) == ("0", "0")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0, log_path.read_text()


@pytest.mark.timeout(30)
def test_daemon_is_not_dumpable(sandbox: Sandbox) -> None:
    """A non-dumpable process's /proc files belong to root whatever its uid (proc(5)).

    As root, the daemon runs as uid 65534 so that root ownership means something; a
    plain process run the same way shows the contrast.
    """
    prefix: list[str] = []
    if os.geteuid() == 0:
        reason = can_switch_user()
        if reason:
            pytest.skip(reason)
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        for directory in (sandbox.root, sandbox.runtime_dir):
            os.chown(directory, NOBODY, NOBODY)
        control = subprocess.Popen([*prefix, "sleep", "30"])
        try:
            assert wait_until(lambda: os.stat(f"/proc/{control.pid}/status").st_uid == NOBODY)
        finally:
            control.kill()
            control.wait(10)
    log_path = sandbox.root / "nxuskitd.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "nxuskitd", "--store", "file"],
            env=sandbox.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        assert wait_until(lambda: socket_answers(sandbox.socket_path), timeout=15), (
            log_path.read_text()
        )
        with open(f"/proc/{process.pid}/status") as handle:
            uids = next(line for line in handle if line.startswith("Uid:")).split()[1:]
        assert int(uids[1]) != 0, "the check needs a daemon whose euid is not root"
        assert os.stat(f"/proc/{process.pid}/status").st_uid == 0, "the daemon is dumpable"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0, log_path.read_text()
