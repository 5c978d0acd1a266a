"""Running the command of ``nxuskit-cli run``: its signals, its output, its exit status.

Process group: the command stays in nxuskit-cli's process group, as sudo runs a command
without a pty. So the terminal's Ctrl-C, Ctrl-\\ and window changes, which the kernel
sends to the whole foreground group, reach it directly and once, and job control
(Ctrl-Z, ``fg``, ``bg``) works as for any command, in a pipeline too. Signals that
another process sends to nxuskit-cli (``kill PID``, ``timeout``, a service manager) are
passed on (``FORWARDED``). Not passed on: a signal the kernel generated (the terminal's:
the command got it already) and one the command itself sent. Where the platform does not
say who sent a signal (no ``sigwaitinfo`` on macOS), SIGINT, SIGQUIT and SIGWINCH are
taken for the terminal's while nxuskit-cli is in the terminal's foreground group. A
signal another process sends to the whole group (a shell's SIGHUP to its jobs as it
exits) reaches the command directly and again through nxuskit-cli, as with sudo: the
sender cannot be told from one that signalled nxuskit-cli alone.

The watched signals are blocked in nxuskit-cli and taken one at a time with
``sigwaitinfo``, SIGCHLD among them, so none is missed while the command starts; the
command starts with the signal mask nxuskit-cli was given. It gets only descriptors 0, 1
and 2 (``close_fds``): never nxuskit-cli's connection to nxuskitd, nor any other
descriptor nxuskit-cli was given.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from nxuskit_cli.masking import Masker, relay
from nxuskit_cli.output import CommandNotFound, CommandNotRunnable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

FORWARDED = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGWINCH,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
"""The signals passed on to the command."""

DRAIN_AFTER_EXIT = 2.0
"""Seconds to go on relaying masked output after the command exits, while processes it
left running still hold its stdout (a shell pipeline waits for them all; a wrapper ends)."""

KERNEL = -1
"""The sender of a signal the kernel generated (the terminal's Ctrl-C, a hangup)."""

_WATCHED = frozenset((*FORWARDED, signal.SIGCHLD))
_TERMINAL_SIGNALS = frozenset((signal.SIGINT, signal.SIGQUIT, signal.SIGWINCH))
# A blocked signal whose action is to ignore it may be discarded rather than kept pending
# (POSIX leaves it open), so these get a handler; blocked, it never runs.
_IGNORED_BY_DEFAULT = (signal.SIGCHLD, signal.SIGWINCH)
# si_code of a signal a process sent: Linux's SI_USER (kill), SI_QUEUE, SI_TKILL.
_SENT_BY_A_PROCESS = frozenset((0, -1, -6))
_SIGINFO = sys.platform == "linux" and hasattr(signal, "sigwaitinfo")


class Relays:
    """The pipes that carry the command's masked streams, and the threads that copy them to
    nxuskit-cli's ``targets`` (1, 2) through a Masker each. When stdout and stderr are one
    file (``2>&1``), one pipe takes both, so that their order is kept."""

    def __init__(self, secrets: Sequence[str], targets: Sequence[int]) -> None:
        self.secrets = list(secrets)
        self.ends: dict[int, int] = {}  # the command's descriptor -> its pipe's write end
        self.pipes: list[tuple[int, int, int]] = []  # read end, write end, target
        shared = list(targets) == [1, 2] and _same_file(1, 2)
        for target in [1] if shared else targets:
            read_end, write_end = os.pipe()
            self.pipes.append((read_end, write_end, target))
            self.ends[target] = write_end
        if shared:
            self.ends[2] = self.ends[1]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Close the command's ends here (its exit then ends the pipes) and start copying."""
        for read_end, write_end, target in self.pipes:
            os.close(write_end)
            thread = threading.Thread(
                target=relay, args=(read_end, target, Masker(self.secrets)), daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def finish(self, limit: float) -> None:
        """Wait until every pipe ended, ``limit`` seconds at most."""
        deadline = time.monotonic() + limit
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Close every end (the command did not start)."""
        for read_end, write_end, _ in self.pipes:
            os.close(read_end)
            os.close(write_end)


def caller_environment() -> dict[str, str]:
    """The environment nxuskit-cli was started with. Not quite ``os.environ``: Python sets
    LC_CTYPE there when it starts in the C locale (PEP 538's coercion), and CMD must get
    the caller's environment unchanged. Linux keeps the original in /proc/self/environ."""
    try:
        with open("/proc/self/environ", "rb") as handle:
            entries = handle.read().split(b"\0")
    except OSError:
        return dict(os.environ)
    found: dict[str, str] = {}
    for entry in entries:
        name, equals, value = entry.partition(b"=")
        if name and equals:
            found.setdefault(os.fsdecode(name), os.fsdecode(value))  # the first, as getenv
    return found


def run_command(
    argv: Sequence[str], env: dict[str, str], secrets: Sequence[str], masked: Sequence[int]
) -> int:
    """Run ``argv`` with ``env``, ``secrets`` masked in its descriptors ``masked`` (1, 2),
    signals passed on; its exit status (128+N when signal N ended it).

    Raises CommandNotFound or CommandNotRunnable when it cannot start.
    """
    relays = Relays(secrets, masked)
    for number in _IGNORED_BY_DEFAULT:
        if signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, _never_runs)
    given_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    try:
        process = _start(argv, env, relays.ends, given_mask)
    except BaseException:
        relays.close()
        signal.pthread_sigmask(signal.SIG_SETMASK, given_mask)
        raise
    relays.start()
    status = _wait(process)
    relays.finish(DRAIN_AFTER_EXIT)
    # The watched signals stay blocked: nxuskit-cli now ends with the command's status,
    # and a late Ctrl-C must not turn that into its own "interrupted".
    return status


def _start(
    argv: Sequence[str], env: dict[str, str], ends: dict[int, int], given_mask: set[int]
) -> subprocess.Popen[bytes]:
    def unblock() -> None:  # in the child, before exec
        signal.pthread_sigmask(signal.SIG_SETMASK, given_mask)

    name = argv[0]
    try:
        return subprocess.Popen(
            list(argv),
            env=env,
            stdout=ends.get(1),
            stderr=ends.get(2),
            close_fds=True,
            # Safe here: no other thread runs yet (the relays start after the command).
            preexec_fn=unblock,  # noqa: PLW1509
        )
    except FileNotFoundError:
        raise CommandNotFound(f"{name}: command not found") from None
    except PermissionError:
        raise CommandNotRunnable(f"{name}: permission denied (is it executable?)") from None
    except OSError as error:
        raise CommandNotRunnable(f"{name}: cannot run it: {error.strerror}") from None


def _wait(process: subprocess.Popen[bytes]) -> int:
    """Pass signals on until the command exits; its exit status."""
    while (code := process.poll()) is None:
        number, sender = next_signal()
        if number != signal.SIGCHLD and should_forward(number, sender, process.pid):
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(number)
    return 128 - code if code < 0 else code


def next_signal() -> tuple[int, int | None]:
    """The next watched signal, and who sent it: a pid, ``KERNEL``, or None where the
    platform does not say."""
    if _SIGINFO:
        info = signal.sigwaitinfo(_WATCHED)
        return info.si_signo, info.si_pid if info.si_code in _SENT_BY_A_PROCESS else KERNEL
    return signal.sigwait(_WATCHED), None


def should_forward(number: int, sender: int | None, command: int) -> bool:
    """Whether signal ``number`` from ``sender`` goes on to the ``command`` (its pid)."""
    if sender is None:  # who sent it is unknown: guess the terminal's from its signals
        return number not in _TERMINAL_SIGNALS or not in_foreground()
    return sender not in (KERNEL, command)


def in_foreground() -> bool:
    """Whether this process is in the foreground group of its controlling terminal."""
    try:
        terminal = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(terminal) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(terminal)


def _never_runs(number: int, frame: object) -> None:
    """The handler of a signal that stays blocked (see ``_IGNORED_BY_DEFAULT``)."""


def _same_file(first: int, second: int) -> bool:
    try:
        a, b = os.fstat(first), os.fstat(second)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
