"""The base of every section of the settings root (config.settings.Settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """One concern's settings. A plain model: it reads the environment only when the root
    is built from it (``SectionsFromEnvironment``), with ``env_prefix`` + the field name
    or a field's own aliases; built from a dict or keywords, it reads nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    env_prefix: ClassVar[str] = "SMARTROUTER_"
