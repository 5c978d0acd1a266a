"""The audit trail: each credential access recorded, off the event loop, never a secret.

``AuditLog.record`` is called by the request that accessed a credential (see
``nxuskitd.audited``): it notes the time, the method, the provider, the source, the
result and the peer (``nxuskitd.peer.CURRENT``: the connection's pid and executable, as
the kernel gave them when it connected), and puts that tuple on a queue. Worth keeping:
a warm resolve pays a ``time.time()`` and a queue put, nothing more. One writer thread
drains the queue, encodes the entries and appends them to the file (``AuditFile``) in
batches; a slow or full disk holds up that thread only, never the event loop.

What the writer cannot write is dropped, with one WARNING per cause (and a line when
writing works again); ``problem`` says why, for ``audit.query``. Requests are served
whatever happens to the log, unlike Vault's audit device, which refuses requests it
cannot audit: here the credential store is the user's own, and a full disk must not lock
them out of it. The queue is bounded (``MAX_PENDING``) so a stuck disk cannot eat memory.

``last_used`` is each provider's last successful resolve that handed out a credential,
read from the log's files at start-up (so it survives restarts; about 20 ms of CPU for a
full log of four 1 MiB files) and kept in memory.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time

import anyio.to_thread
import msgspec

from nxuskit import audit, protocol
from nxuskit.answers import AuditTrail
from nxuskit.errors import NxuskitError
from nxuskit.registry import Registry
from nxuskitd.audit_file import AuditFile, AuditUnwritable
from nxuskitd.peer import CURRENT
from nxuskitd.ratelimit import OncePerCause

log = logging.getLogger(__name__)

MAX_PENDING = 10_000
"""Entries waiting for the writer beyond this are dropped (and counted)."""
BATCH_DELAY = 0.05
"""How long the writer lets entries gather before it writes them (seconds): what a
``kill -9`` of the daemon can lose."""
FLUSH_TIMEOUT = 2.0
"""How long ``audit.query`` waits for the writer before it reads what is on disk."""
NO_LOG = "this nxuskitd keeps no audit log (it was started with --no-audit)"

Entry = tuple[float, str, "str | None", "str | None", str, "int | None", "str | None",
              "float | None"]  # fmt: skip
_FIELDS = ("time", "method", "provider", "source", "result", "pid", "executable", "reuse")
_STOP = None


class _Use(msgspec.Struct):
    """The fields of a log line that ``last_used`` needs (the others are skipped)."""

    time: float
    method: str
    result: str
    provider: str | None = None
    source: str | None = None


class AuditLog:
    """The daemon's audit trail: ``record`` from requests, ``query`` for ``audit.query``.

    ``directory`` None keeps no file (``--no-audit``, or a daemon embedded in a test).
    """

    def __init__(
        self,
        directory: str | None,
        max_bytes: int = audit.MAX_BYTES,
        generations: int = audit.GENERATIONS,
    ) -> None:
        self.path = None if directory is None else os.path.join(directory, audit.FILE_NAME)
        self.problem: str | None = NO_LOG if directory is None else None
        """Why entries are not being written now, or None."""
        self._dropped_waiting = 0  # counted by the event loop's thread
        self._dropped_unwritten = 0  # counted by the writer thread
        self._file = None if self.path is None else AuditFile(self.path, max_bytes, generations)
        self._last_used: dict[str, float] = {}
        self._queue: queue.SimpleQueue[Entry | threading.Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._warnings = OncePerCause(log)

    def open(self) -> None:
        """Read each provider's last use from the log's files, and start the writer."""
        if self.path is None:
            return
        self._last_used = _last_uses(self.path)
        self._thread = threading.Thread(target=self._write_forever, name="audit", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Write what is queued (waiting a moment at most), then stop the writer."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(FLUSH_TIMEOUT)

    def record(
        self,
        method: str,
        provider: str | None,
        source: str | None,
        result: str,
        reuse: float | None = None,
    ) -> None:
        """Note one credential access by the current request's peer (cheap: no I/O);
        ``reuse``: the seconds a resolve's answer may be reused from the client's cache."""
        now = time.time()
        if result == audit.OK and method == protocol.RESOLVE and source and provider:
            self._last_used[provider] = now
        if self._thread is None:
            return
        if self._queue.qsize() >= MAX_PENDING:
            self._dropped_waiting += 1
            return
        peer = CURRENT.get()
        pid, executable = (peer.pid, peer.executable) if peer is not None else (None, None)
        self._queue.put((now, method, provider, source, result, pid, executable, reuse))

    @property
    def dropped(self) -> int:
        """Entries lost since start: the writer could not write them, or too many waited."""
        return self._dropped_waiting + self._dropped_unwritten

    def last_used(self, provider: str) -> float | None:
        """When ``provider``'s credential was last handed out (Unix time), or None."""
        used = self._last_used.get(provider)
        return None if used is None else round(used, 3)

    async def query(
        self, registry: Registry, provider: str | None, since: float | None, limit: int | None
    ) -> AuditTrail:
        """``audit.query``: what is recorded so far (queued entries written first)."""
        count = audit.check_limit(limit)
        name = None if provider is None else audit.canonical(provider, registry)
        path = self.path
        if path is None:
            return AuditTrail([], False, None, self.problem)

        def read() -> AuditTrail:
            self.flush(FLUSH_TIMEOUT)
            return audit.read(path, name, since, count)

        trail = await anyio.to_thread.run_sync(read)
        trail.problem = self.problem
        return trail

    def flush(self, timeout: float) -> bool:
        """Wait (blocking) until what was queued before is written; False on timeout."""
        if self._thread is None:
            return True
        written = threading.Event()
        self._queue.put(written)
        return written.wait(timeout)

    # -- the writer thread -----------------------------------------------------------

    def _write_forever(self) -> None:
        self._write([])  # open the file now: a problem is logged at start-up, not later
        while True:
            batch = self._next_batch()
            entries = [item for item in batch if isinstance(item, tuple)]
            if entries:
                self._write(entries)
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if _STOP in batch:
                assert self._file is not None
                self._file.close()
                return

    def _next_batch(self) -> list[Entry | threading.Event | None]:
        """What the queue holds, once something is in it."""
        batch = [self._queue.get()]
        if isinstance(batch[0], tuple):
            # Let the entries of a busy moment gather: one wake-up and one write for all
            # of them. Woken for each, this thread cost a warm resolve about half again
            # its time (bench/audit_cost.py), in wake-ups and in the lock both share.
            time.sleep(BATCH_DELAY)
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _write(self, entries: list[Entry]) -> None:
        """Append ``entries`` (none: just open the file); a failure drops them, logged."""
        assert self._file is not None
        lines = []
        for entry in entries:
            try:
                lines.append(_line(entry))
            except Exception:  # a bug: it must cost this entry only, not the writer thread
                log.exception("audit log: could not encode an entry of %s", entry[1])
                self._dropped_unwritten += 1
        if entries and not lines:
            return
        try:
            self._file.write(lines)
        except AuditUnwritable as problem:
            self._dropped_unwritten += len(lines)
            self.problem = f"{problem}; entries are being dropped, credentials still served"
            self._warnings.warning(f"audit log: {self.problem}")
            return
        if self.problem is not None:
            self.problem = None
            self._warnings.recovered(f"audit log: writing {self._file.path} again")


def _line(entry: Entry) -> bytes:
    fields = dict(zip(_FIELDS, entry, strict=True))
    fields["time"] = round(entry[0], 3)
    return msgspec.json.encode(fields) + b"\n"


def _last_uses(path: str) -> dict[str, float]:
    """Each provider's last successful resolve in the log's files (oldest file first)."""
    decoder = msgspec.json.Decoder(_Use)
    found: dict[str, float] = {}
    for name in reversed(audit.files(path)):
        try:
            data = audit.read_file(name)
        except NxuskitError as problem:
            log.warning("audit log: %s (last uses before this start are not known)", problem)
            continue
        for line in data.split(b"\n"):
            if b'"auth.resolve"' not in line or b'"result":"ok"' not in line:
                continue
            try:
                use = decoder.decode(line)
            except msgspec.DecodeError:
                continue  # a line cut short by a crash
            if use.method == protocol.RESOLVE and use.source and use.provider:
                found[use.provider] = max(use.time, found.get(use.provider, 0.0))
    return found
