"""Choosing the OS keyring backend: a real one, or none and the reason why.

The ``keyring`` library picks the best viable backend for the platform; we take its
judgement (and honour ``PYTHON_KEYRING_BACKEND`` and keyringrc.cfg) but refuse what is
not an OS credential store:

- ``keyring.backends.fail`` (nothing found) and ``keyring.backends.null`` (disabled);
- the chainer, which only forwards to the backends we judge one by one anyway;
- anything from ``keyrings.alt``: its backends keep secrets in plain or weakly
  protected files, which our own 0600 file store already does, visibly;
- backends whose priority says "not recommended" (below 1).

Judging a backend means asking it whether it can work here, and on Linux that opens a
D-Bus connection, which can hang for ever when the session bus is stuck. So the probe
runs in a daemon thread and is abandoned after ``timeout`` seconds.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from typing import Any

# Human names of the backends that are real OS stores (shown in logs and status).
DESCRIPTIONS = {
    "keyring.backends.SecretService.Keyring": "Secret Service (keyring)",
    "keyring.backends.libsecret.Keyring": "Secret Service via libsecret (keyring)",
    "keyring.backends.kwallet.DBusKeyring": "KWallet (keyring)",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet 4 (keyring)",
    "keyring.backends.macOS.Keyring": "macOS Keychain (keyring)",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager (keyring)",
}

# The backends that would serve this platform, asked for their reason when none can.
_EXPECTED = {
    "linux": ("keyring.backends.SecretService.Keyring",),
    "darwin": ("keyring.backends.macOS.Keyring",),
    "win32": ("keyring.backends.Windows.WinVaultKeyring",),
}


@dataclasses.dataclass(frozen=True)
class BackendChoice:
    """The backend to use (None: no usable OS keyring), its description and the reason."""

    backend: Any
    description: str
    reason: str

    @property
    def usable(self) -> bool:
        """True when an OS keyring backend was found."""
        return self.backend is not None


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def describe(backend: object) -> str:
    """The human name of ``backend`` ("Secret Service (keyring)", ...)."""
    cls = type(backend)
    return DESCRIPTIONS.get(_qualname(cls), f"{getattr(cls, 'name', cls.__name__)} (keyring)")


def priority_of(cls: type) -> float | str:
    """The priority ``cls`` claims here, or the reason it gives for not working here."""
    try:
        return float(getattr(cls, "priority", 0))
    except Exception as exc:  # a backend says "not here" by raising from priority
        return str(exc).strip() or type(exc).__name__


def refusal(cls: type, priority: float | str | None = None) -> str | None:
    """Why the backend class ``cls`` is not an OS credential store we accept, or None.

    ``priority`` is ``priority_of(cls)`` when the caller already has it (asking a D-Bus
    backend costs a connection).
    """
    name = _qualname(cls)
    if cls.__module__.startswith("keyrings.alt"):
        return f"{name} (keyrings.alt) keeps secrets in a file, not in an OS store"
    if cls.__module__ == "keyring.backends.fail":
        return "the keyring library found no backend"
    if cls.__module__ == "keyring.backends.null":
        return "the keyring library is disabled (null backend)"
    if cls.__module__ == "keyring.backends.chainer":
        return "the chainer backend only forwards to others"
    if priority is None:
        priority = priority_of(cls)
    if isinstance(priority, str):
        return f"{name}: {priority}"
    if priority < 1:
        return f"{name} is not a recommended backend (priority {priority:g})"
    return None


def _why_none() -> str:
    """The reasons the platform's usual backends gave for not working here."""
    import importlib

    reasons = []
    for name in _EXPECTED.get(sys.platform, _EXPECTED["linux"]):
        module_name, _, class_name = name.rpartition(".")
        label = DESCRIPTIONS.get(name, name).removesuffix(" (keyring)")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except Exception as exc:
            reasons.append(f"{label}: {type(exc).__name__}")
            continue
        priority = priority_of(cls)
        if isinstance(priority, str):
            reasons.append(f"{label}: {priority}")
    return "; ".join(reasons) or "no recommended keyring backend is installed"


def _configured() -> tuple[Any, str] | None:
    """The backend named by PYTHON_KEYRING_BACKEND or keyringrc.cfg, if any."""
    import os

    from keyring import core

    where = "PYTHON_KEYRING_BACKEND" if os.environ.get("PYTHON_KEYRING_BACKEND") else None
    try:
        backend = core.load_env() or core.load_config()
    except Exception as exc:
        return None, f"the configured keyring backend cannot work here: {exc}"
    if backend is None:
        return None
    return backend, f"configured with {where or 'keyringrc.cfg'}"


def _choose() -> BackendChoice:
    from keyring import backend as keyring_backend

    configured = _configured()
    if configured is not None:
        chosen, how = configured
        if chosen is None:
            return BackendChoice(None, "", how)
        refused = refusal(type(chosen))
        if refused is not None:
            return BackendChoice(None, "", f"{how}, but {refused}")
        return BackendChoice(chosen, describe(chosen), how)
    keyring_backend.get_all_keyring()  # loads the plugins registered by entry points, once
    candidates: list[tuple[float, type]] = []
    refused_reasons = []
    for cls in keyring_backend.KeyringBackend.get_viable_backends():
        priority = priority_of(cls)
        refused = refusal(cls, priority)
        if refused is None and isinstance(priority, float):
            candidates.append((priority, cls))
        elif refused is not None and cls.__module__.startswith("keyrings.alt"):
            refused_reasons.append(refused)
    if not candidates:
        reasons = [_why_none(), *refused_reasons]
        return BackendChoice(None, "", "; ".join(reasons))
    _, best = max(candidates, key=lambda pair: pair[0])
    instance = best()
    return BackendChoice(instance, describe(instance), f"{describe(instance)} is available")


def usable_backend(timeout: float = 5.0) -> BackendChoice:
    """The best real OS keyring backend here, judged within ``timeout`` seconds.

    Never raises: an unusable or silent keyring is a choice with ``backend`` None and
    the reason in words.
    """
    outcome: list[BackendChoice] = []

    def probe() -> None:
        try:
            outcome.append(_choose())
        except Exception as exc:
            outcome.append(BackendChoice(None, "", f"the keyring probe failed: {exc}"))

    thread = threading.Thread(target=probe, name="nxuskitd-keyring-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if outcome:
        return outcome[0]
    return BackendChoice(
        None,
        "",
        f"the OS keyring did not answer within {timeout:g}s (is the D-Bus session bus hung?)",
    )
