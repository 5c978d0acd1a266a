"""The provider registry: the built-in providers as data, plus those in config.toml.

The records themselves, and the built-ins, are in ``nxuskit.providers`` (re-exported
here).

config.toml adds providers, or overrides fields of a built-in one::

    [providers.acme]
    display_name = "Acme AI"
    env = "ACME_API_KEY"
    host_env = "ACME_HOST"
    default_host = "https://api.acme.example/v1"
    auth_methods = ["api_key"]

A config.toml entry that is wrong costs only that provider (``Registry.broken``); a file
that cannot be trusted, read or parsed leaves the built-ins (``Registry.error``).
"""

from __future__ import annotations

import os

from nxuskit import paths
from nxuskit.errors import ConfigError, NxuskitError, UnknownProvider
from nxuskit.providers import (
    AUTH_METHODS,
    BEARER,
    BUILTIN,
    OAUTH_DEFAULTS,
    OPENROUTER_OAUTH,
    ProviderSpec,
    join_path,
)

__all__ = [
    "AUTH_METHODS",
    "BEARER",
    "BUILTIN",
    "OAUTH_DEFAULTS",
    "OPENROUTER_OAUTH",
    "ProviderSpec",
    "Registry",
    "join_path",
    "load",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from nxuskit.config import Section

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def plain_name(name: object) -> bool:
    """True when ``name`` may be shown: short, of provider-name characters only. Anything
    else may be a key typed in the wrong place, and is never echoed."""
    return isinstance(name, str) and len(name) <= 24 and _NAME_CHARS.issuperset(name.lower())


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def normalize_name(name: str) -> str:
    """How every nxuskit client matches a provider name (docs/protocol.md section 7):
    surrounding ASCII spaces, tabs, CRs and LFs are ignored, and ASCII letters match
    without regard to case. Nothing else is changed (no Unicode case folding or other
    whitespace), so that Go, Rust, TypeScript and Python agree on every spelling
    (clients/conformance/vectors.json)."""
    return name.strip(" \t\r\n").translate(_ASCII_LOWER)


def shown_name(name: object) -> str:
    """``name`` quoted when it looks like a provider name; never echo what may be a key."""
    return repr(name) if plain_name(name) else "(that name)"


class Registry:
    """Looks providers up by name or alias (case-insensitive).

    ``providers`` are the usable ones; ``broken`` maps each config.toml entry that is
    wrong to its ConfigError; ``error`` is set when config.toml as a whole is not used
    (untrusted, unreadable, not TOML); ``warnings`` are problems that cost nothing;
    ``team`` is the file's ``[team]`` table as written (nxuskitd reads it), or None.
    """

    __slots__ = (
        "_broken", "_by_name", "broken", "error", "providers", "source", "team", "warnings"
    )  # fmt: skip

    def __init__(
        self,
        providers: tuple[ProviderSpec, ...],
        source: str | None = None,
        *,
        broken: dict[str, ConfigError] | None = None,
        error: NxuskitError | None = None,
        warnings: tuple[str, ...] | list[str] = (),
        team: Section | None = None,
    ) -> None:
        self.providers = providers
        self.team = team
        self.source = source
        self.broken = dict(broken or {})
        self.error = error
        self.warnings = tuple(warnings)
        self._by_name: dict[str, ProviderSpec] = {}
        for spec in providers:
            for key in (spec.name, *spec.aliases):
                self._by_name[key] = spec
        self._broken = dict(self.broken)
        for spec in BUILTIN:  # a broken override of a built-in answers to its aliases too
            if spec.name in self.broken:
                self._broken.update(dict.fromkeys(spec.aliases, self.broken[spec.name]))

    def find(self, name: str) -> ProviderSpec | None:
        """The provider called ``name`` (or aliased so), or None (see ``normalize_name``)."""
        # Names and aliases are stored normalized: most callers spell them so already,
        # and a dict lookup is cheaper than normalizing (once per daemon request).
        return self._by_name.get(name) or self._by_name.get(normalize_name(name))

    def get(self, name: str) -> ProviderSpec:
        """The provider called ``name``. Raises ConfigError when its config.toml entry is
        wrong, the error of config.toml when the file is not used and ``name`` is no
        built-in, else UnknownProvider with the known names."""
        spec = self.find(name) if isinstance(name, str) else None
        if spec is not None:
            return spec
        problem = self._broken.get(normalize_name(name)) if isinstance(name, str) else None
        if problem is not None:
            raise ConfigError(problem.message)
        if self.error is not None:
            raise type(self.error)(f"{shown_name(name)} is no built-in provider, and {self.error}")
        known = ", ".join(p.name for p in self.providers)
        raise UnknownProvider(
            f"unknown provider {shown_name(name)}: known providers are {known}; "
            f"add others in {self.source or paths.config_path()}"
        )

    def problems(self) -> list[str]:
        """Every error and warning about config.toml, one line each (for logs and notes)."""
        lines = [self.error.message] if self.error is not None else []
        return [*lines, *(problem.message for problem in self.broken.values()), *self.warnings]

    def to_wire(self) -> list[dict[str, Any]]:
        """``provider.list``'s entries: the usable providers, then the broken ones."""
        empty = ProviderSpec("", "", None, ()).to_wire()
        broken = [
            {**empty, "name": name, "display_name": name, "error": problem.message}
            for name, problem in self.broken.items()
        ]
        return [*(spec.to_wire() for spec in self.providers), *broken]

    def broken_status(self) -> list[dict[str, Any]]:
        """``auth.status`` entries for the broken providers (status ``config_invalid``)."""
        return [
            {"provider": name, "auth_methods": [], "status": "config_invalid", "source": None,
             "auth_method": None, "expires_at": None, "error": problem.message}
            for name, problem in self.broken.items()
        ]  # fmt: skip

    def config_info(self) -> dict[str, Any]:
        """The file, whether it is used (``error``), and its ``warnings``."""
        error = self.error.message if self.error is not None else None
        return {"path": self.source, "error": error, "warnings": list(self.warnings)}


_cache: tuple[str, tuple[int, ...] | None, Registry] | None = None


def load(path: str | None = None) -> Registry:
    """The registry: built-ins plus config.toml (re-read when the file changes).

    Never raises for what config.toml says: see ``Registry.get``, ``broken`` and ``error``.
    """
    global _cache  # noqa: PLW0603 - one registry per process, refreshed on change
    path = path or paths.config_path()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        stamp: tuple[int, ...] | None = None
    except OSError as exc:
        return Registry(BUILTIN, path, error=ConfigError(f"cannot read {path}: {exc.strerror}"))
    else:
        # ctime, mode and owner too: a chmod or chown changes whether the file is trusted.
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                 st.st_mode, st.st_uid, st.st_gid)  # fmt: skip
    if _cache is not None and _cache[0] == path and _cache[1] == stamp:
        return _cache[2]
    if stamp is None:
        registry = Registry(BUILTIN, path)
    else:
        from nxuskit.config import read_config

        found = read_config(path, BUILTIN)
        registry = Registry(
            found.providers,
            path,
            broken=found.broken,
            error=found.error,
            warnings=found.warnings,
            team=found.team,
        )
    if registry.error is None:  # a refused file is looked at again: a fix may be elsewhere
        _cache = (path, stamp, registry)
    return registry
