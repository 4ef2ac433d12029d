"""campaigns: the compacted campaigns topic into a global table every worker can read."""

from __future__ import annotations

from pydantic import TypeAdapter

from smartrouter.schemas.campaigns import CampaignConfig
from smartrouter.streams.app import app, campaigns, topics
from smartrouter.streams.codec import Source
from smartrouter.streams.pipeline import run_validated

CAMPAIGN = TypeAdapter(CampaignConfig)


async def handle_campaign(config: CampaignConfig, source: Source) -> None:
    campaigns[config.campaign_id] = config.model_dump(mode="json")


@app.agent(topics["campaigns"])
async def apply_campaigns(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    # Keyed by campaign_id, not customer: any partition is fine, so no partition check.
    await run_validated(stream, CAMPAIGN, handle_campaign, topics, key_field="campaign_id")
