"""``smartrouter`` command line (Typer + Rich): the app and its wiring, nothing else.

Each command lives in a module of its own group (``stack``, ``records``, ``models``,
``schema``, ``ingest``, ``demo``, ``lake``, ``policy``, ``guardrail``, ``events``), a thin
shell over the package that does the work; heavy imports happen inside the commands, so
``smartrouter --help`` stays fast.
"""

from __future__ import annotations

import typer

from smartrouter.cli import lake, records, stack
from smartrouter.cli.demo import demo
from smartrouter.cli.events import events_app
from smartrouter.cli.guardrail import guardrail_app
from smartrouter.cli.ingest import ingest_app
from smartrouter.cli.models import models
from smartrouter.cli.policy import policy_app
from smartrouter.cli.schema import schema_app

app = typer.Typer(
    name="smartrouter",
    help="Smart Router: decides per message whether to send, on which channel, at which minute.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(schema_app, name="schema")
app.add_typer(guardrail_app, name="guardrail", help="Model C, the anger guardrail: score texts.")
app.add_typer(events_app, name="events", help="Raw AWS delivery events: normalize them.")
app.add_typer(policy_app, name="policy", help="Model A, the channel bandit: offline replay.")
app.add_typer(ingest_app, name="ingest")
app.command("report")(lake.report)
app.command("maintain")(lake.maintain)
app.command()(stack.broker)
app.command(help=stack.UP_HELP)(stack.up)
app.command()(stack.worker)
app.command()(stack.sink)
app.command()(records.topics)
app.command()(models)
app.command(help=records.PRODUCE_HELP)(records.produce)
app.command()(records.tail)
app.command()(demo)

def main() -> None:
    app()


if __name__ == "__main__":
    main()
