"""What counts as a customer engaging with a message: the one definition, per channel.

Pure. The learning loop rewards it (``engine.learning.REWARDS``), the simulator's ledgers
and world count it (``sim.metrics``, ``sim.truth``) and the lake report counts it
(``adapters.lake.report``), so ``smartrouter demo`` and ``smartrouter report`` agree on
"engaged" and on the cost per engagement.

- e-mail: ``clicked`` or ``replied``. Opens are not engagement: mail privacy protection
  (Apple MPP) pre-fetches images, so an "open" is often a proxy server, not a person.
- SMS: ``clicked`` (tracked link) or ``replied``.
- WhatsApp: ``opened`` (a read receipt, sent by the person's own app), ``clicked``,
  ``replied``.
- push: ``opened`` (the notification was tapped) or ``clicked``.
- voice: ``replied`` (a keypress / callback); a completed call alone is delivery.
"""

from __future__ import annotations

from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType

__all__ = ["ENGAGEMENTS", "is_engagement"]

ENGAGEMENTS: dict[Channel, frozenset[DeliveryType]] = {
    Channel.EMAIL: frozenset({DeliveryType.CLICKED, DeliveryType.REPLIED}),
    Channel.SMS: frozenset({DeliveryType.CLICKED, DeliveryType.REPLIED}),
    Channel.WHATSAPP: frozenset({DeliveryType.OPENED, DeliveryType.CLICKED,
                                 DeliveryType.REPLIED}),
    Channel.PUSH: frozenset({DeliveryType.OPENED, DeliveryType.CLICKED}),
    Channel.VOICE: frozenset({DeliveryType.REPLIED}),
}


def is_engagement(event_type: str, channel: str) -> bool:
    """True when an event of ``event_type`` on ``channel`` is the customer engaging."""
    try:
        return DeliveryType(event_type) in ENGAGEMENTS.get(Channel(channel), frozenset())
    except ValueError:
        return False
