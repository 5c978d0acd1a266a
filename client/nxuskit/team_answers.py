"""What the team methods of nxuskitd answer (``team.*``, and the team parts of
``daemon.status``, ``auth.status`` and ``auth.resolve``): the shapes of the team store
(OpenBao or Vault, docs/team.md), kept apart from ``nxuskit.answers`` only for size;
``nxuskit.answers`` re-exports them and lists them in ``RESULTS``.
"""

from __future__ import annotations

from nxuskit.shape import Answer

__all__ = ["TeamInfo", "TeamLoggedOut", "TeamOrigin", "TeamStored"]


class TeamInfo(Answer):
    """The team store (OpenBao or Vault, ``[team]`` in config.toml) as nxuskitd sees it.

    ``address`` is the node in use (or the first of ``addresses``); ``path`` is the
    secret path template with its mount (``secret/nxuskit/{provider}``) and ``field`` the
    key inside each secret. ``reachable`` and ``authenticated`` are None until the daemon
    has tried; ``token_ttl`` (seconds left, None: unknown or never expires),
    ``renewable`` and ``policies`` describe the daemon's token, never show it.
    ``insecure`` is true when plain http to a non-loopback address was allowed
    (``insecure_http``). ``warning``: cached keys are served while the store does not
    answer; ``error``: what stops the team store from serving, with the fix.
    """

    address: str | None
    addresses: list[str]
    path: str
    field: str
    auth: str
    insecure: bool
    reachable: bool | None
    authenticated: bool | None
    token_ttl: float | None
    renewable: bool | None
    policies: list[str]
    cache_ttl: float
    max_stale: float
    cached: int
    warning: str | None = None
    error: str | None = None


class TeamOrigin(Answer):
    """Where a team credential came from: the node's ``address``, the secret's ``path``
    (with its mount, as ``bao kv get`` takes it), its ``field`` and ``version``; ``stale``
    when the team store did not answer and a cached copy was served."""

    address: str
    path: str
    field: str
    version: int | None
    stale: bool


class TeamLoggedOut(Answer):
    """``team.logout``: whether a team credential was stored (and is now deleted), and
    how many cached team keys were forgotten."""

    removed: bool
    forgotten: int


class TeamStored(Answer):
    """``team.set_credential``: the key is written to the team store as a new ``version``
    of ``path`` at ``address`` (the answer never echoes it)."""

    provider: str
    address: str
    path: str
    version: int
