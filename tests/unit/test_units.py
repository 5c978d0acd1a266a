"""The service files and the installer's plans, without running any service manager.

One source of truth: ``daemon/nxuskitd/units/`` (shipped in the wheel); ``systemd/`` and
``launchd/`` at the top of the tree must hold the same bytes.
"""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path

import pytest

from nxuskit import paths
from nxuskit.client import Client
from nxuskit_cli import lifecycle, managers, units
from nxuskit_cli.output import ServiceError
from nxuskit_cli.steps import MakeDirectory, RemoveFile, Run, StopDaemon, WriteFile
from nxuskitd import activation

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_UNITS = ROOT / "daemon" / "nxuskitd" / "units"

HARDENING = (
    "LimitCORE",
    "UMask",
    "NoNewPrivileges",
    "PrivateUsers",
    "ProtectSystem",
    "ReadWritePaths",
    "PrivateTmp",
    "LockPersonality",
    "RestrictAddressFamilies",
    "SystemCallArchitectures",
    "RestrictRealtime",
    "RestrictSUIDSGID",
)


def directives(text: str) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit file, by key (comments and sections skipped)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.parametrize(
    ("top_level", "name"),
    [
        ("systemd", "nxuskitd.socket"),
        ("systemd", "nxuskitd.service"),
        ("launchd", "com.nxuskit.nxuskitd.plist"),
    ],
)
def test_top_level_copies_agree_with_the_packaged_ones(top_level, name):
    assert (ROOT / top_level / name).read_bytes() == (PACKAGE_UNITS / name).read_bytes()


def test_the_cli_finds_the_templates_without_importing_the_daemon():
    assert Path(units.template_dir()).resolve() == PACKAGE_UNITS.resolve()


def test_the_socket_unit_matches_what_clients_and_the_daemon_expect():
    socket_unit = directives((PACKAGE_UNITS / "nxuskitd.socket").read_text())
    assert socket_unit["ListenStream"] == [f"%t/{paths.APP}/{paths.SOCKET_NAME}"]
    assert socket_unit["SocketMode"] == ["0600"]
    assert socket_unit["DirectoryMode"] == ["0700"]
    assert socket_unit["FileDescriptorName"] == [activation.FD_NAME]
    assert socket_unit["Accept"] == ["no"]


def test_the_service_is_notify_type_and_hardened():
    text = (PACKAGE_UNITS / "nxuskitd.service").read_text()
    service_unit = directives(text)
    assert service_unit["Type"] == ["notify"]
    assert service_unit["ExecStart"] == [units.PLACEHOLDER]
    assert service_unit["Restart"] == ["on-failure"]
    assert service_unit["ProtectSystem"] == ["strict"]
    assert "%t/nxuskit" in service_unit["ReadWritePaths"]
    assert service_unit["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    for key in HARDENING:
        assert key in service_unit, key
    # These two would break the product: /run/user (D-Bus, our socket) and ctypes/cffi.
    assert "ProtectHome" not in service_unit
    assert "MemoryDenyWriteExecute" not in service_unit


def test_every_hardening_choice_is_explained_in_a_comment():
    lines = (PACKAGE_UNITS / "nxuskitd.service").read_text().splitlines()
    for index, line in enumerate(lines):
        key = line.partition("=")[0]
        if key not in HARDENING:
            continue
        above = index - 1
        while above >= 0 and re.match(r"^[A-Za-z]+=", lines[above]):
            above -= 1  # directives that share one comment
        assert above >= 0, f"{key}= has no comment"
        assert lines[above].startswith("#"), f"{key}= has no comment"


def test_the_plist_has_what_launchd_needs():
    nxuskitd = "/Users/a b/.venv/bin/nxuskitd"
    socket = "/Users/a b/Library/Caches/TemporaryItems/nxuskit/nxuskitd.sock"
    log = "/Users/a&b/Library/Logs/nxuskit/nxuskitd.log"
    text = units.render_launchd(nxuskitd, socket, log)
    assert not re.search(r"@[A-Z]+@", text)
    plist = plistlib.loads(text.encode())
    assert plist["Label"] == units.LAUNCHD_LABEL
    assert plist["ProgramArguments"] == [nxuskitd]
    listeners = plist["Sockets"][activation.LAUNCHD_SOCKETS_KEY]
    assert listeners["SockPathName"] == socket
    assert listeners["SockPathMode"] == 0o600 == 384
    assert plist["StandardErrorPath"] == log
    # On demand: launchd starts it on the first connection, not at load, and not forever.
    assert plist.get("RunAtLoad", False) is False
    assert "KeepAlive" not in plist
    for value in (nxuskitd, socket, log):
        assert os.path.isabs(value)


@pytest.mark.parametrize(
    ("path", "word"),
    [
        ("/home/u/.venv/bin/nxuskitd", "/home/u/.venv/bin/nxuskitd"),
        ("/home/u/my env/bin/nxuskitd", '"/home/u/my env/bin/nxuskitd"'),
        ("/opt/100%/nxuskitd", '"/opt/100%%/nxuskitd"'),
        ("/opt/$HOME/nxuskitd", '"/opt/$HOME/nxuskitd"'),
        ('/opt/a"b\\c/nxuskitd', '"/opt/a\\"b\\\\c/nxuskitd"'),
    ],
)
def test_systemd_words_are_quoted_and_escaped(path, word):
    assert units.systemd_word(path) == word


def test_rendered_service_runs_the_given_program():
    rendered = units.render_systemd("/srv/venv/bin/nxuskitd")
    assert set(rendered) == set(units.SYSTEMD_UNITS)
    assert directives(rendered["nxuskitd.service"])["ExecStart"] == ["/srv/venv/bin/nxuskitd"]
    assert units.PLACEHOLDER not in "".join(rendered.values())


def test_nxuskitd_is_found_beside_this_python():
    found = units.find_nxuskitd()
    assert os.path.isabs(found)
    assert os.path.basename(found) == "nxuskitd"
    assert os.access(found, os.X_OK)


def test_systemd_install_plan(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    plan = managers.Systemd().install("/srv/venv/bin/nxuskitd")
    unit_dir = str(tmp_path / "config" / "systemd" / "user")
    assert plan[0] == MakeDirectory(unit_dir, 0o755)
    written = {step.path: step for step in plan if isinstance(step, WriteFile)}
    assert set(written) == {f"{unit_dir}/nxuskitd.socket", f"{unit_dir}/nxuskitd.service"}
    assert "ExecStart=/srv/venv/bin/nxuskitd\n" in written[f"{unit_dir}/nxuskitd.service"].text
    assert StopDaemon("/run/user/1000/nxuskit/nxuskitd.sock") in plan
    commands = [step.argv for step in plan if isinstance(step, Run)]
    assert commands[:2] == [
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", "--now", "nxuskitd.socket"),
    ]
    # The daemon is stopped before systemd takes the socket over.
    kinds = [type(step) for step in plan]
    assert kinds.index(StopDaemon) < kinds.index(Run)


def test_systemd_uninstall_plan(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    plan = managers.Systemd().uninstall()
    assert plan[0] == Run(
        ("systemctl", "--user", "disable", "--now", "nxuskitd.socket", "nxuskitd.service"),
        may_fail=True,
    )
    assert RemoveFile(f"{tmp_path}/systemd/user/nxuskitd.service") in plan


def test_launchd_install_plan_uses_absolute_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    manager = managers.Launchd()
    plan = manager.install("/Users/u/.venv/bin/nxuskitd")
    plist_step = next(step for step in plan if isinstance(step, WriteFile))
    assert plist_step.path == f"{tmp_path}/Library/LaunchAgents/com.nxuskit.nxuskitd.plist"
    plist = plistlib.loads(plist_step.text.encode())
    assert plist["ProgramArguments"] == ["/Users/u/.venv/bin/nxuskitd"]
    assert os.path.isabs(plist["Sockets"]["Listeners"]["SockPathName"])
    uid = os.getuid()
    assert plan[-1] == Run(("launchctl", "bootstrap", f"gui/{uid}", plist_step.path))


def test_dry_run_prints_files_and_commands_and_changes_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(lifecycle.managers, "current", lambda socket_path=None: managers.Systemd())
    lifecycle.install(Client(), dry_run=True)
    out = capsys.readouterr().out
    assert out.startswith("# dry run: nothing is written or run\n")
    assert f"# write {tmp_path}/config/systemd/user/nxuskitd.service (mode 644):" in out
    assert f"ExecStart={units.find_nxuskitd()}\n" in out
    assert "# run: systemctl --user enable --now nxuskitd.socket" in out
    assert not (tmp_path / "config").exists()


def test_install_without_a_service_manager_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no systemctl
    monkeypatch.setattr(lifecycle.managers, "current", lambda socket_path=None: managers.Systemd())
    with pytest.raises(ServiceError, match="systemctl is not installed") as raised:
        lifecycle.install(Client(), dry_run=False)
    assert "nxuskit-cli daemon install --dry-run" in str(raised.value)
    assert not (tmp_path / "config").exists()


def test_write_file_is_atomic_and_sets_the_mode(tmp_path):
    target = tmp_path / "unit"
    target.write_text("old")
    assert WriteFile(str(target), "new\n", 0o640).apply() == f"wrote {target}"
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["unit"]


def test_a_failed_command_stops_the_plan_with_its_message():
    with pytest.raises(ServiceError, match=r"failed \(exit 3\): boom"):
        Run(("sh", "-c", "echo boom >&2; exit 3")).apply()
    assert Run(("sh", "-c", "exit 3"), may_fail=True).apply() == "ran sh -c 'exit 3'"
    with pytest.raises(ServiceError, match="not installed"):
        Run(("nxuskit-no-such-program",)).apply()
