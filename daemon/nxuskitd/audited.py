"""Which calls the audit trail records, and what it notes of each.

``audited`` wraps the handlers of ``nxuskit.audit.RECORDED`` (the methods that hand out
or change a credential): after each call, one entry with the provider (the answer's
canonical name; for a failure, the name asked for), the source (a resolve's), the
seconds a resolve's answer may be reused from the client's cache (``reuse``), and the
result, "ok" or the error's kind (``not_authenticated``, ``permission_denied``, ...;
``internal_error`` for a bug). Who called comes from the connection (``nxuskitd.peer``),
so no handler takes it as a parameter. Params a method refuses as malformed (-32602)
never reach a handler, and are not recorded.

It also adds ``last_used`` to each ``auth.status`` entry. A provider name that may be a
key typed in the wrong place is written as ``nxuskit.audit.HIDDEN``, never as given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nxuskit import audit, protocol, registry
from nxuskit.answers import Answer, Reuse, Statuses
from nxuskit.errors import NxuskitError
from nxuskit.registry import Registry
from nxuskitd.audit import AuditLog
from nxuskitd.dispatch import Handler

INTERNAL_ERROR = "internal_error"


def audited(
    bound: dict[str, Handler], trail: AuditLog, load_registry: Callable[[], Registry]
) -> dict[str, Handler]:
    """``bound`` with its recorded methods wrapped, and ``auth.status`` given last_used."""
    wrapped = dict(bound)
    for method in audit.RECORDED:
        wrapped[method] = _recorded(method, bound[method], trail, load_registry)
    wrapped[protocol.STATUS] = _with_last_used(bound[protocol.STATUS], trail)
    return wrapped


def shown(name: str | None) -> str | None:
    """``name`` as the log may hold it: a provider name, or HIDDEN for what may be a key."""
    if name is None:
        return None
    return name if registry.plain_name(name) else audit.HIDDEN


def _recorded(
    method: str, handler: Handler, trail: AuditLog, load_registry: Callable[[], Registry]
) -> Handler:
    async def call(params: Any) -> Answer:
        try:
            answer = await handler(params)
        except NxuskitError as error:
            trail.record(method, _asked(params, load_registry), None, error.kind)
            raise
        except Exception:
            trail.record(method, _asked(params, load_registry), None, INTERNAL_ERROR)
            raise
        provider = shown(getattr(answer, "provider", None))
        source = getattr(answer, "source", None)  # a Migration's "source" is its old store
        leave = getattr(answer, "reuse", None)  # the client may use it without asking again
        reuse = leave.seconds if isinstance(leave, Reuse) else None
        trail.record(method, provider, source if isinstance(source, str) else None, audit.OK, reuse)
        return answer

    return call


def _asked(params: Any, load_registry: Callable[[], Registry]) -> str | None:
    """The provider a failed call named: its canonical name when the registry knows it."""
    name = getattr(params, "provider", None)
    if not isinstance(name, str) or not registry.plain_name(name):
        return shown(name)
    try:
        spec = load_registry().find(name)
    except NxuskitError:
        spec = None
    return spec.name if spec is not None else registry.normalize_name(name)


def _with_last_used(handler: Handler, trail: AuditLog) -> Handler:
    async def status(params: Any) -> Answer:
        answer = await handler(params)
        if isinstance(answer, Statuses):
            for entry in answer.providers:
                entry.last_used = trail.last_used(entry.provider)
        return answer

    return status
