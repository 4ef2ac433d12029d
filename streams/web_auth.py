"""The worker's web server: what it serves and who may ask.

Faust's built-in views list every table and serve any table row (``/table/customers/<id>/``
returned phone, e-mail, consent, the last inbound text), so they are all switched off:
no endpoint exposes table contents. What stays is faust's status index (``{"status":
"OK"}``). The server binds 127.0.0.1 unless ``web_bind`` says otherwise, and Settings
refuses a non-loopback bind without ``web_token``; with a token, every request must carry
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from smartrouter.config.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Faust's optional views, all off (each would show table contents or internals).
BUILTIN_VIEWS_OFF: dict[str, bool] = {
    "web_router_enabled": False,
    "web_tables_enabled": False,
    "web_graph_enabled": False,
    "web_stats_enabled": False,
    "web_metrics_enabled": False,
}


def bearer_token_middleware(token: str) -> Callable[[web.Request, Handler], Awaitable[Any]]:
    """An aiohttp middleware that answers 401 unless the request carries ``token``."""
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):  # constant time: no timing oracle
            return web.json_response({"error": "unauthorized"}, status=401,
                                     headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return require_token


def web_options(settings: Settings) -> dict[str, Any]:
    """The faust.App keyword arguments for the web server ``settings`` describe."""
    middlewares = [] if settings.web.token is None else [
        bearer_token_middleware(settings.web.token.get_secret_value())]
    return {
        "web_bind": settings.web.bind,
        "web_host": settings.web.host,
        "web_port": settings.web.port,
        "web_in_thread": False,
        "web_application_options": {"middlewares": middlewares},
        **BUILTIN_VIEWS_OFF,
    }
