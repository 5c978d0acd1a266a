"""The registry the daemon answers from, and what a change of it means.

``registry.load`` gives the same object while config.toml is unchanged (a file refused
as a whole is read again each time, and gives an equal one). On a change, what is wrong
with config.toml is logged once (not per request), and the published generation moves:
a name, an alias or an auth method may now answer differently, so no client may reuse
what it was told before (``nxuskitd.reuse``).
"""

from __future__ import annotations

import logging

from nxuskit import registry
from nxuskitd.generation import Generation

log = logging.getLogger("nxuskitd.credentials")  # where these lines were always logged


class RegistryWatch:
    """Loads the registry of ``config_path`` (None: the default) for every request."""

    def __init__(self, config_path: str | None, published: Generation) -> None:
        self.config_path = config_path
        self._published = published
        self._registry: registry.Registry | None = None  # as of the last load
        self._problems: tuple[str, ...] = ()  # the last ones logged

    def load(self) -> registry.Registry:
        """The registry now (config.toml is re-read when it changes)."""
        reg = registry.load(self.config_path)
        if reg is not self._registry:
            self._changed(reg)
        return reg

    def _changed(self, reg: registry.Registry) -> None:
        previous, self._registry = self._registry, reg
        problems = tuple(reg.problems())
        same = previous is not None and previous.providers == reg.providers
        if same and problems == self._problems:
            return  # a file still refused: rebuilt per load, the same each time
        self._published.bump()
        if problems != self._problems:
            self._problems = problems
            for problem in problems:
                log.warning("config: %s", problem)
