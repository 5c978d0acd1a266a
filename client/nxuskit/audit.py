"""The audit trail: what nxuskitd records of each credential access, and reading it back.

nxuskitd appends one JSON object per line (the fields of ``answers.AuditEntry``) to
``audit.jsonl`` in the state directory (``log_path()``): the file is 0600 in
a 0700 directory. Past ``MAX_BYTES`` the file is rotated (``audit.jsonl`` becomes
``audit.jsonl.1``, ``.1`` becomes ``.2``, ...) and ``GENERATIONS`` old files are kept.
Entries are written in the order they happened: newest last.

What is recorded: every call of a method in ``RECORDED`` (each hands out or changes a
credential), and the end of each OAuth login (method ``LOGIN``), whether it worked
(``result`` "ok") or not (the error's kind: ``not_authenticated``, ``permission_denied``,
...). Never a secret or a token; a provider name that may be a key typed in the wrong
place is written as ``HIDDEN``.

``read`` reads the files (nxuskitd does for ``audit.query``; the CLI does itself when no
daemon runs); ``audit_query`` asks the daemon. Standard library only.
"""

from __future__ import annotations

import json
import os
import stat

from nxuskit import protocol, registry
from nxuskit.answers import AuditEntry, AuditTrail
from nxuskit.errors import InvalidArgument, PermissionDenied, ProtocolError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from nxuskit.registry import Registry

FILE_NAME = "audit.jsonl"
MAX_BYTES = 1024 * 1024
"""The size past which the daemon starts a new file (its ``--audit-max-bytes``)."""
GENERATIONS = 3
"""How many rotated files are kept besides the current one (``.1`` is the newest)."""

OK = "ok"
"""An entry's ``result`` when the call succeeded (else the error's kind)."""
LOGIN = "auth.login"
"""The ``method`` of an entry for an OAuth login that ended (begun by auth.login_start)."""
HIDDEN = "(hidden)"
"""Written instead of a provider name that may be a key typed in the wrong place."""

RECORDED = frozenset(
    (protocol.RESOLVE, protocol.SET_CREDENTIAL, protocol.REMOVE_CREDENTIAL,
     protocol.LOGIN_START, protocol.LOGOUT, protocol.REPORT_INVALID, protocol.STORE_MIGRATE,
     protocol.TEAM_LOGIN, protocol.TEAM_LOGOUT, protocol.TEAM_SET_CREDENTIAL)
)  # fmt: skip
"""The methods recorded: each hands out, replaces, revokes or deletes a credential
(auth.login_start ends the previous login; the team methods give or take the daemon's
team credential, or write a team key). Status, lists and login waits are not."""


def files(path: str) -> list[str]:
    """The log's files, newest first: ``path``, then ``path.1`` ... ``path.GENERATIONS``."""
    return [path] + [f"{path}.{number}" for number in range(1, GENERATIONS + 1)]


def canonical(name: str, known: Registry | None = None) -> str:
    """The name the log uses for provider ``name``: its registry name when known (an
    alias finds it), else ``name`` itself (a provider since removed from config.toml).

    Raises InvalidArgument for a name that cannot be a provider's (it may be a key).
    """
    reg = known if known is not None else registry.load()
    spec = reg.find(name)
    if spec is not None:
        return spec.name
    if not registry.plain_name(name):
        raise InvalidArgument(f"provider: {registry.shown_name(name)} is not a provider name")
    return registry.normalize_name(name)


def check_limit(limit: int | None) -> int:
    """``limit`` (None: the default) when it is one ``audit.query`` takes.

    Raises InvalidArgument naming the range.
    """
    count = protocol.AUDIT_LIMIT_DEFAULT if limit is None else limit
    if isinstance(count, bool) or not 1 <= count <= protocol.AUDIT_LIMIT_MAX:
        raise InvalidArgument(f"limit: between 1 and {protocol.AUDIT_LIMIT_MAX}, not {count}")
    return count


def read(
    path: str,
    provider: str | None = None,
    since: float | None = None,
    limit: int = protocol.AUDIT_LIMIT_DEFAULT,
) -> AuditTrail:
    """The newest ``limit`` entries of the log at ``path`` for ``provider`` (a canonical
    name; None: all) at or after ``since`` (Unix time; None: all), oldest first. A line
    that is not a whole entry (cut short by a crash) is skipped.

    Raises PermissionDenied when a file of the log cannot be read.
    """
    found: list[AuditEntry] = []
    for name in files(path):
        oldest = float("inf")
        for entry in _entries(name, provider):
            oldest = min(oldest, entry.time)
            if since is not None and entry.time < since:
                continue
            if len(found) >= limit:
                return AuditTrail(found[::-1], True, path)
            found.append(entry)
        if since is not None and oldest < since:
            break  # the older files hold older entries still
    return AuditTrail(found[::-1], False, path)


def _entries(name: str, provider: str | None) -> Iterator[AuditEntry]:
    """The whole entries of one file, newest first (only ``provider``'s, when given)."""
    # A cheap test on the bytes first: most lines of a busy log are of other providers.
    needle = None if provider is None else f'"provider":{json.dumps(provider)}'.encode()
    for line in reversed(_lines(name)):
        if needle is not None and needle not in line:
            continue
        entry = _entry(line)
        if entry is not None and (provider is None or entry.provider == provider):
            yield entry


def _lines(name: str) -> list[bytes]:
    return read_file(name).split(b"\n")


def read_file(name: str) -> bytes:
    """The bytes of one of the log's files (b"" when it does not exist).

    Raises PermissionDenied when it cannot be read, or is not a regular file: a FIFO
    or a symlink put in its place is refused at once, never waited on or followed.
    """
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise PermissionDenied(f"cannot read {name}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PermissionDenied(f"{name} is not a regular file: move it away")
        with open(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def _entry(line: bytes) -> AuditEntry | None:
    if not line.strip():
        return None
    try:
        return AuditEntry.from_wire(json.loads(line))
    except (ValueError, ProtocolError):
        return None


def audit_query(
    provider: str | None = None, since: float | None = None, limit: int | None = None
) -> AuditTrail:
    """The daemon's audit trail (``audit.query``): the newest ``limit`` entries (default
    ``protocol.AUDIT_LIMIT_DEFAULT``) for ``provider`` (None: all) since ``since`` (Unix
    time), oldest first. Starts the daemon if allowed; ``read`` reads the file itself.

    Raises InvalidArgument, DaemonUnavailable, VersionMismatch.
    """
    from nxuskit.client import default_client

    return default_client().audit_query(provider, since, limit)


def log_path() -> str:
    """Where this user's daemon writes its audit log by default."""
    from nxuskit import paths

    return os.path.join(paths.state_dir(), FILE_NAME)
