"""What simulated customers write to support: complaints while angry, calmer notes after.

A varied bank on purpose: some texts swear, most do not, some are sarcastic or only
implicitly angry ("third time I'm asking"), so the engine's guardrail (VADER plus complaint
cues) catches many of them but not all — as with real customers. Slots (``{n}``, ``{days}``,
``{thing}``) are filled per message so the same customer rarely repeats themselves. None of
them is a bare keyword (STOP, START, HELP): those change consent and are not complaints.
"""

from __future__ import annotations

import random

__all__ = ["ANGRY", "CALM", "angry_text", "calm_text"]

ANGRY: tuple[str, ...] = (
    "I have been waiting {days} days for my refund. This is ridiculous.",
    "{n} hours on hold, again. Nobody ever picks up.",
    "Still no refund. Third time I'm asking.",
    "Your app charged me twice for the same {thing}. Fix it now!!!",
    "WHERE IS MY ORDER? You said it would arrive {days} days ago.",
    "This is the worst customer service I have ever dealt with.",
    "I want to cancel my account. I'm done with you people.",
    "Absolutely useless. The {thing} arrived broken and no one answers my emails.",
    "Stop sending me offers and fix my problem first.",
    "Unbelievable. I was promised a callback yesterday and nothing.",
    "You took my money and the {thing} never came. I'm reporting this.",
    "Why is it so hard to get a straight answer from you?",
    "I've explained this {n} times already. Read the previous messages.",
    "Cancel my subscription immediately and refund me.",
    "Your chat bot is a joke. I need a real person.",
    "Great, another 'we're looking into it'. That's what you said last week.",
    "Thanks for nothing. {days} days and still no update on my {thing}.",
    "I am extremely disappointed. This was supposed to be a gift.",
    "The delivery guy left my {thing} in the rain. Soaked. Completely ruined.",
    "This is a scam. Charged and no {thing}.",
    "what the hell is going on with my order",
    "Seriously?? Another delay? This is a joke",
    "I'm so fed up with this. Nothing works.",
    "You keep closing my ticket without fixing anything.",
    "Never ordering from you again. Terrible.",
    "The {thing} stopped working after {days} days and you refuse to replace it.",
    "I want my money back. Not a voucher. My money.",
    "Disgusting service, honestly.",
    "Do you even read these messages?",
    "My account is locked and support hung up on me. Twice.",
    "I'll be filing a complaint with my bank about these charges.",
    "This damn app logged me out and deleted my cart again.",
    "Hello? Anyone? Still waiting on my refund from {days} days ago.",
    "I was charged a fee nobody told me about. Not ok.",
    "Your courier marked it delivered. It was NOT delivered.",
    "Worst experience. I'm telling everyone I know to avoid you.",
    "It's been {n} weeks. Where is my replacement?",
    "Stop wasting my time and just process the return.",
    "I'm losing my patience here.",
    "Ridiculous that I have to chase you for a {thing} I paid for.",
)

CALM: tuple[str, ...] = (
    "Thanks, that's sorted now.",
    "Got the refund, thank you for your help.",
    "Ok, received it. Thanks.",
    "Appreciate the quick fix, all good now.",
    "Thank you! The replacement arrived today.",
    "Fine, thanks for letting me know.",
    "Thanks for the update.",
    "Great, it works again. Cheers!",
    "Perfect, thanks a lot.",
    "No worries, everything is fine now.",
    "What time do you open on Saturday?",
    "Can I change the delivery address for my next order?",
)

_THINGS = ("order", "package", "headphones", "jacket", "phone case", "blender", "shoes",
           "subscription box", "parcel", "charger")


def angry_text(rng: random.Random) -> str:
    """One complaint with its slots filled."""
    return _fill(rng.choice(ANGRY), rng)


def calm_text(rng: random.Random) -> str:
    """A neutral or thankful note (what a customer writes once the problem is solved)."""
    return _fill(rng.choice(CALM), rng)


def _fill(template: str, rng: random.Random) -> str:
    return template.format(n=rng.randint(2, 5), days=rng.randint(3, 21),
                           thing=rng.choice(_THINGS))
