"""OAuth in the daemon: browser and device logins, logout with revocation, token refresh.

::

    manager    OAuthManager: the wire methods' entry points; owns the logins' tasks
    flows      one login in progress (browser: loopback redirect; device: RFC 8628)
    callback   the loopback listener for the redirect       pages   the page it shows
    device     the device grant's answer and its poll loop  pkce    verifier, state
    refresh    one refresh per provider at a time, shared by concurrent resolves
    http       authlib over httpx2 (imported on first use)  tokens  token answers, records
    settings   a provider's [providers.NAME.oauth] as the daemon uses it
    ledger     the logins running and the outcomes kept    lock    the per-provider lock
    methods    the OAuth wire methods bound to the manager

Nothing here logs a code, verifier, state or token.
"""

from nxuskitd.oauth.manager import OAuthManager

__all__ = ["OAuthManager"]
