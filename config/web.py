"""The ``web`` section of the settings root (``Settings.web``): ``SMARTROUTER_WEB_*``."""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from smartrouter.config.section import Section


class WebSettings(Section):
    """The worker's web server: where it listens, what it advertises, the token it wants."""

    env_prefix: ClassVar[str] = "SMARTROUTER_WEB_"

    port: int = Field(default=6066, ge=1, le=65535, description="Faust web port.")
    bind: str = Field(
        default="127.0.0.1",
        description="Address the worker's web server listens on. Anything but loopback needs"
        " a token: the server is refused at start otherwise.",
    )
    host: str = Field(default="127.0.0.1", description="Host name the worker advertises.")
    token: SecretStr | None = Field(
        default=None,
        description="Bearer token every web request must carry (Authorization: Bearer ...).",
    )

    @model_validator(mode="after")
    def _exposed_needs_token(self) -> WebSettings:
        if not is_loopback(self.bind) and not self.token:
            raise ValueError(
                f"web bind {self.bind} is not a loopback address: set SMARTROUTER_WEB_TOKEN"
                " (every request must then carry it) or bind 127.0.0.1")
        return self


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; every other bind is reachable from outside."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or an all-interfaces address: treat as exposed
