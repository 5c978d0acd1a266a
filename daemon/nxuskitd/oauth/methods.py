"""The OAuth wire methods bound to an ``OAuthManager`` (merged into ``nxuskitd.methods``)."""

from __future__ import annotations

from typing import Any

from nxuskit import protocol
from nxuskit.answers import Answer
from nxuskitd.dispatch import Handler
from nxuskitd.oauth.manager import OAuthManager


def oauth_handlers(manager: OAuthManager) -> dict[str, Handler]:
    """``auth.login_start``, ``auth.login_wait``, ``auth.login_cancel``, ``auth.logout``
    and ``auth.report_invalid``."""

    async def login_start(params: Any) -> Answer:
        return await manager.start(params.provider, bool(params.device), params.timeout)

    async def login_wait(params: Any) -> Answer:
        return await manager.wait(params.login_id, params.timeout)

    async def login_cancel(params: Any) -> Answer:
        return manager.cancel(params.login_id)

    async def logout(params: Any) -> Answer:
        return await manager.logout(params.provider)

    async def report_invalid(params: Any) -> Answer:
        return await manager.report_invalid(params.provider, params.token_sha256)

    return {
        protocol.LOGIN_START: login_start,
        protocol.LOGIN_WAIT: login_wait,
        protocol.LOGIN_CANCEL: login_cancel,
        protocol.LOGOUT: logout,
        protocol.REPORT_INVALID: report_invalid,
    }
