"""``nxuskit-cli`` running in the background while a test talks to it (a login that waits).

Every LiveCli is stopped and waited for at the end of its test (the autouse fixture
``reap_live_clis`` in conftest), whatever the test did: one left running would fail a
later, unrelated test on a ResourceWarning.
"""

from __future__ import annotations

import contextlib
import queue
import re
import subprocess
import threading
import time
from typing import ClassVar

from tests.conftest import Sandbox, cli_command


class LiveCli:
    """``nxuskit-cli ARGS`` running in the background, its output read line by line."""

    running: ClassVar[list[LiveCli]] = []

    def __init__(self, box: Sandbox, *args: str) -> None:
        self.process = subprocess.Popen(
            cli_command(*args),  # Ctrl-C reaches it even when the tests ignore SIGINT
            env=box.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        LiveCli.running.append(self)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        # finish() or stop() may close stdout while this thread still reads it.
        with contextlib.suppress(ValueError, OSError):
            for line in self.process.stdout:
                self.lines.put(line.rstrip("\n"))

    def line_matching(self, pattern: str, timeout: float = 20) -> str:
        """The next stdout line that matches ``pattern`` (regex search)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} in {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        """(exit status, the rest of stdout, stderr)."""
        rest_out, err = self.process.communicate(timeout=timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.process.returncode, "\n".join(self.seen) + (rest_out or ""), err

    def stop(self) -> None:
        """Kill the process if it still runs, wait for it, close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
            self.process.communicate(timeout=10)
        self.process.wait(10)


def reap_live_clis() -> None:
    """Stop every LiveCli started so far."""
    while LiveCli.running:
        LiveCli.running.pop().stop()
