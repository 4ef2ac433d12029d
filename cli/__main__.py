"""``python -m smartrouter.cli``: the same commands as the ``smartrouter`` script."""

from smartrouter.cli.main import main

main()
