"""The team layer: provider keys from a team's OpenBao or Vault (KV v2), with nxuskitd as
each machine's agent, as Vault Agent is: it authenticates, renews, caches, and serves
apps over the private socket, so apps never hold a Vault token.

::

    __init__     TeamSlot: the hook the CredentialService calls; it builds the service
                 when config.toml has a [team] (only then is the rest, and hvac, imported)
    settings     the [team] table, checked (the names are a contract)
    service      TeamService: keys through a cache with a TTL, stale while the store is
                 down; status; login, logout, writes
    session      the daemon's token: token or AppRole login, renewal, re-authentication
    vault        hvac calls to the store's nodes: failover, errors without secrets
    secret_file  the AppRole secret_id file, trusted as config.toml is, and private
    methods      team.status, team.login, team.logout, team.set_credential

Precedence stays one rule: explicit, env (both decided by the client), the personal
store, then the team store (the daemon's resolve falls back to it only when the personal
store has no credential for the provider).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup

from nxuskit.answers import TeamInfo
from nxuskit.errors import ConfigError
from nxuskit.registry import Registry

if TYPE_CHECKING:
    from nxuskit.config import Section
    from nxuskitd.team.service import TeamService
    from nxuskitd.team.session import PersonalStore

log = logging.getLogger(__name__)


class TeamSlot:
    """Holds the team service that config.toml's ``[team]`` describes, rebuilt when the
    table changes, and runs its token renewal in the daemon's task group."""

    def __init__(
        self,
        store: PersonalStore,
        load_registry: Callable[[], Registry],
        cache_idle: float | None,
        cache_max: float | None,
    ) -> None:
        self._store = store
        self._load_registry = load_registry
        self._limits = (cache_idle, cache_max)
        self._table: tuple[str, object] | None = None  # (file, [team] as parsed)
        self._service: TeamService | None = None
        self._problem: ConfigError | None = None
        self._tasks: TaskGroup | None = None

    def service(self, registry: Registry) -> TeamService | None:
        """The team service of ``registry``'s config.toml (None: it has no ``[team]``).
        Raises ConfigError (file and line) when the table is wrong."""
        section = registry.team
        table = None if section is None else (section.location.path, section.value)
        if table != self._table:
            self._replace(section, table)
        if self._problem is not None:
            raise ConfigError(self._problem.message)
        return self._service

    def usable(self, registry: Registry) -> TeamService | None:
        """The team service, or None when there is none or ``[team]`` is wrong (which
        ``info`` reports)."""
        try:
            return self.service(registry)
        except ConfigError:
            return None

    def info(self, registry: Registry) -> TeamInfo | None:
        """The team store as the daemon sees it, without asking it (None: no ``[team]``)."""
        try:
            service = self.service(registry)
        except ConfigError as error:
            return TeamInfo(
                None, [], "", "", "", False, None, None, None, None, [], 0.0, 0.0, 0,
                error=f"{error.message} (team keys are not served until it is fixed)",
            )  # fmt: skip
        return None if service is None else service.info()

    def drop(self) -> int:
        """``daemon.lock``: forget the team keys and token held in memory; how many keys."""
        return 0 if self._service is None else self._service.drop()

    def _replace(self, section: Section | None, table: tuple[str, object] | None) -> None:
        old, self._service, self._problem, self._table = self._service, None, None, table
        if old is not None:
            old.drop()
            if old.scope is not None:
                old.scope.cancel()
        if section is None:
            if old is not None:
                log.info("team: config.toml has no [team] any more: team keys are not served")
            return
        from nxuskitd.team.settings import parse

        try:
            settings = parse(section)
        except ConfigError as error:
            self._problem = error
            log.warning("config: %s (team keys are not served)", error.message)
            return
        try:
            from nxuskitd.team.service import TeamService
        except ImportError as exc:  # an install without the daemon extra's hvac
            self._problem = ConfigError(
                f"{settings.source}: [team] needs {exc.name or 'hvac'}, which is not "
                "installed: pip install 'nxuskit[daemon]'"
            )
            log.warning("config: %s", self._problem.message)
            return
        self._service = TeamService(settings, self._store, *self._limits)
        insecure = " (plain http allowed by insecure_http)" if settings.insecure else ""
        log.info(
            "team: %s at %s%s, %s auth, keys cached %g s (stale up to %g s more)",
            settings.shown_path(), ", ".join(settings.addresses), insecure, settings.auth,
            settings.cache_ttl, settings.max_stale,
        )  # fmt: skip
        self._start(self._service)

    def _start(self, service: TeamService) -> None:
        """Run ``service``'s renewal in the task group, once (later, when none runs yet)."""
        if self._tasks is not None and service.scope is None:
            service.scope = anyio.CancelScope()
            self._tasks.start_soon(self._keep_fresh, service, service.scope)

    async def _keep_fresh(self, service: TeamService, scope: anyio.CancelScope) -> None:
        with scope:
            await service.keep_fresh()

    async def run(self) -> None:
        """Own the team service's renewal until cancelled (the daemon's lifetime). Reads
        config.toml at once, so a team store that is down at start-up is logged then."""
        try:
            async with anyio.create_task_group() as tasks:
                self._tasks = tasks
                try:
                    service = self.service(self._load_registry())
                except ConfigError:
                    service = None  # logged; a fixed config.toml is read on the next request
                if service is not None:
                    self._start(service)  # made by a request before this task began
                await anyio.sleep_forever()
        finally:
            self._tasks = None
