"""Smart Router: decides per message whether to send, on which channel and at which minute.

Every package of the project installs under this namespace (``smartrouter.schemas``,
``smartrouter.engine``, ...) while its source keeps the top-level folder the design card
names (``schemas/``, ``engine/``, ``streams/``, ``agents/``); ``pyproject.toml`` maps one onto
the other, so nothing generic lands at the top of a user's site-packages.
"""
