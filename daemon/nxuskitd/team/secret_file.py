"""Reading an AppRole secret_id from ``secret_id_file``, trusted as config.toml is, and private.

The file holds a credential, so besides config.toml's rule (yours or root's, nobody else
can write it or a directory above it: ``nxuskit.config_trust``) nobody else may read it
either: mode 0600 or stricter, as ssh demands of a private key.
"""

from __future__ import annotations

import os
import stat

from nxuskit.config_trust import config_problem
from nxuskit.errors import NxuskitError, PermissionDenied
from nxuskit.trust import mode_text

MAX_BYTES = 4096


class SecretFileError(NxuskitError):
    """The secret_id file cannot be used; the message says why and how to fix it."""


def read_secret_id(path: str) -> str:
    """The secret_id in the file at ``path`` (surrounding whitespace dropped).

    Raises PermissionDenied when the file or a directory above it is not safe, and
    SecretFileError when it cannot be read or is empty.
    """
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise SecretFileError(f"cannot read secret_id_file {path}: {exc.strerror}") from None
    try:
        opened = os.fstat(descriptor)
        problem = config_problem(path, opened)
        if problem is not None:
            raise PermissionDenied(problem)
        if stat.S_IMODE(opened.st_mode) & 0o077:
            raise PermissionDenied(
                f"{path} holds a secret_id but others may read it (mode {mode_text(opened)}), "
                f"so it is not used: run `chmod 600 {path}`"
            )
        with open(descriptor, "rb", closefd=False) as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SecretFileError(f"cannot read secret_id_file {path}: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    text = raw.decode("utf-8", errors="replace").strip() if len(raw) <= MAX_BYTES else ""
    if not text:
        raise SecretFileError(
            f"secret_id_file {path} is empty or over 4 KiB: write the secret_id alone there"
        )
    return text
