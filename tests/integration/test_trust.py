"""Trust runs both ways: a client talks only to its own user's daemon, in directories no
other user can change, and the daemon starts only in such directories.

The attacker is uid 65534 (setpriv), with what any local account has: it can create
directories in a shared sticky directory like /tmp and listen on sockets there. Its fake
daemon records every byte it receives and answers every request with a forged key.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Daemon, Sandbox, socket_answers
from tests.integration.conftest import NOBODY, can_switch_user, nxuskitd_pids, wait_until

pytestmark = pytest.mark.timeout(60)

FORGED = "sk-forged-by-the-attacker"

_FAKE_DAEMON = textwrap.dedent(
    """
    import json, os, socket, sys
    path, record = sys.argv[1], sys.argv[2]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen(8)
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        buffer = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            with open(record, "ab") as out:
                out.write(chunk)
            buffer += chunk
            while b"\\n" in buffer:
                line, buffer = buffer.split(b"\\n", 1)
                request = json.loads(line)
                result = {"protocol": 1, "version": "0.1.0", "pid": os.getpid(),
                          "provider": "openai", "secret": sys.argv[3], "source": "store",
                          "auth_method": "api_key", "expires_at": None, "stored": True,
                          "login_id": "x", "authorization_url": "https://phish.example/"}
                answer = {"jsonrpc": "2.0", "id": request.get("id"), "result": result}
                conn.sendall(json.dumps(answer).encode() + b"\\n")
        conn.close()
    """
)

_VICTIM = textwrap.dedent(
    """
    import json, sys
    import nxuskit
    outcome = {}
    for name, call in (
        ("set", lambda: nxuskit.auth_set_credential("openai", sys.argv[1])),
        ("resolve", lambda: nxuskit.auth_resolve("openai").secret),
    ):
        try:
            outcome[name] = ["ok", call()]
        except nxuskit.NxuskitError as exc:
            outcome[name] = [type(exc).__name__, str(exc)]
    print(json.dumps(outcome))
    """
)


def _need_nobody() -> None:
    reason = can_switch_user()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory like /tmp: root-owned, mode 1777 (anyone may create names in it)."""
    path = Path(tempfile.mkdtemp(prefix="nxk-tmp-", dir="/tmp"))
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _as_nobody_popen(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def fake_daemon() -> Iterator[Callable[[Path], Path]]:
    """Start the attacker's fake daemon (as uid 65534) at a path; returns its record file."""
    started: list[subprocess.Popen[str]] = []

    def start(socket_path: Path) -> Path:
        record = socket_path.parent / "received"
        process = _as_nobody_popen(
            sys.executable, "-c", _FAKE_DAEMON, str(socket_path), str(record)
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "listening", process.stderr.read() if process.stderr else ""
        return record

    try:
        yield start
    finally:
        for process in started:
            process.kill()
            process.communicate(timeout=10)  # also closes its pipes


def _squat(directory: Path) -> None:
    """As the attacker: make ``directory`` (and a parent in the shared dir) theirs, 0700."""
    result = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         "mkdir", "-p", "-m", "0700", str(directory)],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _victim(env: dict[str, str], secret: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _VICTIM, secret],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert secret not in done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_fake_daemon_in_the_fallback_runtime_dir_gets_nothing(
    sandbox: Sandbox, shared_tmp: Path, fake_daemon: Callable[[Path], Path]
) -> None:
    """Without XDG_RUNTIME_DIR and /run/user/<uid>, the socket lives in $TMPDIR/runtime-<uid>:
    another user who creates that first must receive no key and forge no answer."""
    _need_nobody()
    if os.path.isdir(f"/run/user/{os.getuid()}"):
        pytest.skip(f"/run/user/{os.getuid()} exists, so the /tmp fallback is not used here")
    runtime = shared_tmp / f"runtime-{os.getuid()}"
    _squat(runtime / "nxuskit")
    record = fake_daemon(runtime / "nxuskit" / "nxuskitd.sock")
    env = {**sandbox.env, "TMPDIR": str(shared_tmp)}
    del env["XDG_RUNTIME_DIR"]
    secret = "sk-victim-key-must-stay-home-1234"
    outcome = _victim(env, secret)
    for name in ("set", "resolve"):
        kind, message = outcome[name]
        assert kind == "PermissionDenied", outcome
        assert str(runtime) in message
        assert f"uid {NOBODY}" in message
    assert FORGED not in json.dumps(outcome)
    assert not record.exists() or record.read_bytes() == b""


def test_a_daemon_of_another_user_behind_our_own_directory_is_refused(
    sandbox: Sandbox, shared_tmp: Path, fake_daemon: Callable[[Path], Path]
) -> None:
    """The directory checks pass, but the kernel says uid 65534 serves the socket: the
    peer check alone must refuse it before anything is sent."""
    _need_nobody()
    attacker_dir = shared_tmp / "attacker"
    _squat(attacker_dir)
    record = fake_daemon(attacker_dir / "s.sock")
    # A socket file moved into our private directory still leads to the attacker's listener.
    sandbox.socket_path.parent.mkdir(mode=0o700, parents=True)
    os.rename(attacker_dir / "s.sock", sandbox.socket_path)
    assert socket_answers(sandbox.socket_path)
    secret = "sk-victim-key-must-stay-home-5678"
    outcome = _victim(sandbox.env, secret)
    for name in ("set", "resolve"):
        kind, message = outcome[name]
        assert kind == "PermissionDenied", outcome
        assert f"served by uid {NOBODY}" in message
        assert "nothing was sent" in message
    assert not record.exists() or record.read_bytes() == b""


@pytest.mark.parametrize("layout", ["foreign-owner", "world-writable", "foreign-symlink"])
def test_the_daemon_refuses_a_runtime_dir_another_user_can_change(
    sandbox: Sandbox, spawn: Callable[..., Daemon], shared_tmp: Path, layout: str
) -> None:
    _need_nobody()
    runtime = shared_tmp / "runtime"
    if layout == "foreign-owner":
        _squat(runtime)
        culprit = runtime
    elif layout == "world-writable":
        runtime.mkdir(mode=0o700)
        runtime.chmod(0o777)  # writable by all, and not sticky: anyone can swap our dir
        culprit = runtime
    else:
        target = shared_tmp / "theirs"
        _squat(target)
        subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                        "ln", "-s", str(target), str(runtime)], check=True, timeout=30)  # fmt: skip
        culprit = runtime
    env = {**sandbox.env, "XDG_RUNTIME_DIR": str(runtime)}
    daemon = spawn(wait=False, env=env)
    assert daemon.process.wait(15) != 0
    log = daemon.log()
    assert "cannot start" in log
    assert str(culprit) in log
    assert "chmod" not in log  # never advise changing a directory others use
    assert nxuskitd_pids(sandbox) == []


def test_the_daemon_refuses_a_socket_in_a_shared_sticky_directory(
    sandbox: Sandbox, spawn: Callable[..., Daemon], shared_tmp: Path
) -> None:
    daemon = spawn("--socket", str(shared_tmp / "x.sock"), wait=False)
    assert daemon.process.wait(15) != 0
    log = daemon.log()
    assert "cannot start" in log
    assert "1777" in log  # the mode as it is, sticky bit included
    assert "chmod" not in log
    assert not (shared_tmp / "x.sock").exists()


def test_a_root_owned_sticky_runtime_dir_is_fine(
    sandbox: Sandbox, spawn: Callable[..., Daemon], shared_tmp: Path
) -> None:
    """/tmp itself is a safe parent (others may add names but not replace ours)."""
    env = {**sandbox.env, "XDG_RUNTIME_DIR": str(shared_tmp)}
    daemon = spawn(env=env, wait=False)
    socket_path = shared_tmp / "nxuskit" / "nxuskitd.sock"
    assert wait_until(lambda: socket_answers(socket_path), timeout=15), daemon.log()
    assert (os.lstat(socket_path.parent).st_mode & 0o777) == 0o700
    daemon.stop()


# -- autostart -------------------------------------------------------------------------


def test_the_start_lock_never_follows_a_symlink(sandbox: Sandbox) -> None:
    victim_file = sandbox.root / "precious"
    victim_file.write_text("keep me\n")
    sandbox.socket_path.parent.mkdir(mode=0o700, parents=True)
    lock = Path(str(sandbox.socket_path) + ".start.lock")
    lock.symlink_to(victim_file)
    env = {**sandbox.env, "NXUSKIT_AUTOSTART": "1"}
    done = subprocess.run(
        [sys.executable, "-c", "import nxuskit; nxuskit.auth_resolve('openai')"],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "PermissionDenied" in done.stderr
    assert str(lock) in done.stderr
    assert victim_file.read_text() == "keep me\n"
    assert nxuskitd_pids(sandbox) == []


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode(errors="replace") for key, value in pairs}


def test_an_autostarted_daemon_is_nxuskitd_with_a_clean_environment(sandbox: Sandbox) -> None:
    app_secret = "sk-app-env-must-not-reach-the-daemon"
    env = {
        **sandbox.env,
        "NXUSKIT_AUTOSTART": "1",
        "OPENAI_API_KEY": app_secret,
        "ANTHROPIC_API_KEY": app_secret,
        "AWS_SECRET_ACCESS_KEY": app_secret,
    }
    code = "import nxuskit; print(nxuskit.daemon_status()['pid'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout)
    try:
        environ = _environ(pid)
        assert app_secret not in "\0".join(f"{k}={v}" for k, v in environ.items())
        assert environ["XDG_RUNTIME_DIR"] == sandbox.env["XDG_RUNTIME_DIR"]
        assert environ["XDG_DATA_HOME"] == sandbox.env["XDG_DATA_HOME"]
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        # the program is nxuskitd itself (pgrep nxuskitd finds it), not `python -m nxuskitd`
        assert b"-m" not in argv, argv
        assert b"nxuskitd" in [os.path.basename(arg) for arg in argv[:2]], argv
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "nxuskitd"
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: pid not in nxuskitd_pids(sandbox), timeout=10)
