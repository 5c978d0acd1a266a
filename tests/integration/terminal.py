"""``nxuskit-cli`` on a pseudo-terminal, as a person runs it in an interactive shell.

The terminal is the child's controlling terminal (a new session that opens it), so
getpass prompts there and not on whatever terminal runs the tests, and Ctrl-C typed
there is SIGINT to the child. Used as a context manager: the child is always reaped.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from types import TracebackType

from tests.conftest import Sandbox, cli_command

# Run in the child, a session leader without a terminal: opening the pty without
# O_NOCTTY makes it the controlling terminal, with the child's group in the foreground.
_TAKE_TERMINAL = "import os; os.close(os.open(os.ttyname(0), os.O_RDWR)); "


class Terminal:
    """``nxuskit-cli ARGS`` with stdin, stdout and stderr on one pseudo-terminal."""

    def __init__(self, box: Sandbox, *args: str) -> None:
        self.leader, follower = pty.openpty()
        try:
            self.process = subprocess.Popen(
                cli_command(*args, prelude=_TAKE_TERMINAL),
                env=box.env,
                stdin=follower,
                stdout=follower,
                stderr=follower,
                start_new_session=True,
            )
        finally:
            os.close(follower)
        self.seen = b""

    def read_until(self, ending: bytes, timeout: float = 20) -> bytes:
        """Everything shown so far, once it ends with ``ending``."""
        deadline = time.monotonic() + timeout
        while not self.seen.endswith(ending):
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(f"no {ending!r} on the terminal: {self.seen!r}")
        return self.seen

    def type(self, keys: bytes) -> None:
        """Type ``keys`` (b"\\x03" is Ctrl-C, b"\\x04" Ctrl-D, b"\\r" Enter)."""
        os.write(self.leader, keys)

    def finish(self, timeout: float = 20) -> tuple[int, bytes]:
        """(exit status, everything the terminal showed)."""
        status = self.process.wait(timeout)
        while self._read(0.5):
            pass
        return status, self.seen

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.leader], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.leader, 4096)
        except OSError:  # EIO: every process closed the terminal
            return False
        self.seen += chunk
        return bool(chunk)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        os.close(self.leader)
