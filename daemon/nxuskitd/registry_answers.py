"""The provider registry as the wire describes it: ``provider.list``'s entries, and the
``auth.status`` entries of config.toml's broken providers (``config_invalid``)."""

from __future__ import annotations

from nxuskit.answers import AuthStatus, ConfigInfo, ProviderInfo, Providers
from nxuskit.registry import ProviderSpec, Registry

CONFIG_INVALID = "config_invalid"


def provider_info(spec: ProviderSpec) -> ProviderInfo:
    """One usable provider of ``provider.list``."""
    return ProviderInfo(
        name=spec.name,
        display_name=spec.display_name,
        aliases=list(spec.aliases),
        env=spec.env,
        host_env=spec.host_env,
        default_host=spec.default_host,
        auth_methods=list(spec.auth_methods),
        api_path=spec.api_path,
        base_url=spec.default_base_url,
    )


def provider_list(registry: Registry) -> Providers:
    """``provider.list``: the usable providers in registry order, then the broken entries
    (which name their error), and config.toml as the daemon read it."""
    broken = [
        ProviderInfo(
            name=name,
            display_name=name,
            aliases=[],
            env=None,
            host_env=None,
            default_host=None,
            auth_methods=[],
            error=problem.message,
        )
        for name, problem in registry.broken.items()
    ]
    config = ConfigInfo(
        path=registry.source,
        error=registry.error.message if registry.error is not None else None,
        warnings=list(registry.warnings),
    )
    return Providers([*(provider_info(spec) for spec in registry.providers), *broken], config)


def broken_statuses(registry: Registry) -> list[AuthStatus]:
    """``auth.status`` entries for config.toml's broken providers: not usable, and why."""
    return [
        AuthStatus(name, CONFIG_INVALID, None, [], display_name=name, error=problem.message)
        for name, problem in registry.broken.items()
    ]
