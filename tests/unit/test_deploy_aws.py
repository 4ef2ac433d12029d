"""Invariants of deploy/aws/delivery-events.yaml: least privilege, only our rules may feed
the queue, and the rules carry exactly the events the normalizer turns into outcomes.

The template is read with PyYAML plus CloudFormation's short-form tags (!Ref, !Sub, …);
cfn-lint, when installed, validates it against the resource schemas as well."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from smartrouter.adapters.sqs.ingest import ACK_MARGIN_S, IngestConfig
from smartrouter.engine.normalize import ses, sms_voice, whatsapp
from smartrouter.engine.normalize.envelope import EVENTBRIDGE_SOURCES

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "delivery-events.yaml"

#: Statements where AWS accepts no resource but "*" (none here; the list says where to look).
STAR_ALLOWED: set[str] = set()
#: Detail-types the normalizer knows but that never carry an outcome for us.
NO_OUTCOME = {
    "Email Sent": "the send agent already wrote `sent`",
    "Email Delivery Delayed": "SES retries; Delivery or Bounce follows",
    "WhatsApp Message Sent": "the send agent already wrote `sent`",
}
SES_EVENT_TYPES = {  # SES event destination MatchingEventTypes -> EventBridge detail-type
    "delivery": "Email Delivered", "bounce": "Email Bounced",
    "complaint": "Email Complaint Received", "reject": "Email Rejected",
    "open": "Email Opened", "click": "Email Clicked",
    "renderingFailure": "Email Rendering Failed", "subscription": "Email Subscribed",
    "send": "Email Sent", "deliveryDelay": "Email Delivery Delayed",
}  # fmt: skip
SENDER_ACTIONS = {
    "sms-voice:SendTextMessage", "sms-voice:SendVoiceMessage",
    "social-messaging:SendWhatsAppMessage", "ses:SendEmail", "sns:Publish",
    "bedrock:InvokeModel",
}  # fmt: skip
INGEST_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                  "sqs:GetQueueAttributes"}  # fmt: skip


# --- loading ---------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Ref x` into {"Ref": x}, `!Sub s` into {"Fn::Sub": s}, …"""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements with the `Fn::If [cond, statement, AWS::NoValue]` wrappers taken off."""
    out = []
    for item in document["Statement"]:
        if "Fn::If" in item:
            _, then, otherwise = item["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            item = then
        out.append(item)
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- a tiny evaluator for the intrinsics the sender policy uses ----------------------------

PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "111122223333"}
SAMPLE = {
    "SmsOriginationIdentityArns": ["arn:aws:sms-voice:us-east-1:111122223333:pool/pool-abc",
                                   "arn:aws:sms-voice:us-east-1:111122223333:sender-id/ACME/GB"],
    "SmsConfigurationSetName": "smartrouter-sms",
    "WhatsAppPhoneNumberIdArn":
        "arn:aws:social-messaging:us-east-1:111122223333:phone-number-id/976c72a700aac43e",
    "SesIdentity": "mail.example.com",
    "SesConfigurationSetName": "smartrouter-email",
    "SesTemplateNamePattern": "smartrouter-*",
    "PushPlatformApplicationArn": "arn:aws:sns:us-east-1:111122223333:app/GCM/acme-android",
    "BedrockModelId": "anthropic.claude-3-haiku-20240307-v1:0",
}  # fmt: skip


def evaluate(node: Any, params: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [evaluate(n, params) for n in node]
    if not isinstance(node, dict):
        return node
    if "Ref" in node:
        return {**PSEUDO, **params}[node["Ref"]]
    if "Fn::Sub" in node:
        return re.sub(r"\$\{([^}]+)\}", lambda m: {**PSEUDO, **params}[m.group(1)], node["Fn::Sub"])
    if "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(evaluate(parts, params))
    if "Fn::Split" in node:
        sep, text = node["Fn::Split"]
        return evaluate(text, params).split(sep)
    raise AssertionError(f"intrinsic not expected in a policy resource: {node}")


# --- tests -------------------------------------------------------------------------------


def test_rules_listen_to_exactly_the_three_families_the_normalizer_reads(template):
    rules = resources(template, "AWS::Events::Rule")
    sources = [s for r in rules.values() for s in r["Properties"]["EventPattern"]["source"]]
    assert sorted(sources) == sorted(EVENTBRIDGE_SOURCES)  # one rule per family
    for rule in rules.values():
        assert "EventBusName" not in rule["Properties"]  # the default bus: where AWS sends


def test_rule_detail_types_are_every_outcome_carrying_type_and_nothing_else(template):
    known = {
        "aws.ses": set(ses.DETAIL_TYPES),
        "aws.sms-voice": {t for t, v in sms_voice.DETAIL_TYPES.items() if v is not None},
        "aws.social-messaging": {t for t, v in whatsapp.DETAIL_TYPES.items() if v is not None},
    }
    for rule in resources(template, "AWS::Events::Rule").values():
        pattern = rule["Properties"]["EventPattern"]
        [source] = pattern["source"]
        assert set(pattern["detail-type"]) == known[source] - set(NO_OUTCOME), source


def test_every_rule_targets_the_queue_with_the_dlq_and_bounded_retries(template):
    for name, rule in resources(template, "AWS::Events::Rule").items():
        [target] = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["DeliveryEventsQueue", "Arn"]}, name
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400


def test_queue_policies_let_only_the_three_rules_send_and_only_over_tls(template):
    rule_arns = [{"Fn::GetAtt": [name, "Arn"]}
                 for name in resources(template, "AWS::Events::Rule")]
    policies = resources(template, "AWS::SQS::QueuePolicy")
    assert {p["Properties"]["Queues"][0]["Ref"] for p in policies.values()} == \
        {"DeliveryEventsQueue", "DeadLetterQueue"}
    for name, policy in policies.items():
        allows = [s for s in statements(policy["Properties"]["PolicyDocument"])
                  if s["Effect"] == "Allow"]
        assert allows, name
        for statement in allows:
            assert statement["Principal"] == {"Service": "events.amazonaws.com"}
            assert statement["Action"] == "sqs:SendMessage"
            source_arns = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
            assert sorted(source_arns, key=str) == sorted(rule_arns, key=str), name
        denies = [s for s in statements(policy["Properties"]["PolicyDocument"])
                  if s["Effect"] == "Deny"]
        assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_no_iam_statement_grants_on_a_star_resource_or_a_star_action(template):
    documents = [r["Properties"]["PolicyDocument"]
                 for kind in ("AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy")
                 for r in resources(template, kind).values()]
    checked = 0
    for document in documents:
        for statement in statements(document):
            for resource in as_list(statement["Resource"]):
                if statement.get("Sid") not in STAR_ALLOWED:
                    assert resource != "*", statement["Sid"]
                    assert not (isinstance(resource, str) and "*" in resource), statement["Sid"]
            if statement["Effect"] == "Allow":
                assert all("*" not in a for a in as_list(statement["Action"])), statement["Sid"]
            checked += 1
    assert checked >= 12


def test_ingest_policy_is_exactly_the_four_queue_actions_on_the_queue(template):
    policy = template["Resources"]["IngestWorkerPolicy"]["Properties"]["PolicyDocument"]
    [statement] = statements(policy)
    assert set(statement["Action"]) == INGEST_ACTIONS
    assert statement["Resource"] == {"Fn::GetAtt": ["DeliveryEventsQueue", "Arn"]}


def test_sender_policy_renders_to_arns_of_the_services_it_acts_on(template):
    policy = template["Resources"]["SmartRouterWorkerPolicy"]["Properties"]["PolicyDocument"]
    granted: dict[str, set[str]] = {}
    for statement in statements(policy):
        rendered = as_list(evaluate(statement["Resource"], SAMPLE))
        for action in as_list(statement["Action"]):
            service = action.split(":")[0]
            for arn in rendered:
                assert re.fullmatch(rf"arn:aws:{service}:us-east-1:(111122223333)?:\S+", arn), arn
                granted.setdefault(action, set()).add(arn)
    assert set(granted) == SENDER_ACTIONS
    account = "arn:aws:{}:us-east-1:111122223333:"
    assert granted["sns:Publish"] == {account.format("sns") + "endpoint/GCM/acme-android/*"}
    assert granted["bedrock:InvokeModel"] == {
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"}
    assert granted["ses:SendEmail"] == {account.format("ses") + r for r in (
        "identity/mail.example.com", "configuration-set/smartrouter-email",
        "template/smartrouter-*")}
    assert granted["sms-voice:SendTextMessage"] == granted["sms-voice:SendVoiceMessage"] == {
        *SAMPLE["SmsOriginationIdentityArns"],
        account.format("sms-voice") + "configuration-set/smartrouter-sms"}
    assert granted["social-messaging:SendWhatsAppMessage"] == {SAMPLE["WhatsAppPhoneNumberIdArn"]}


def test_parameter_patterns_accept_the_samples_and_refuse_wildcards(template):
    params = template["Parameters"]
    for name, value in SAMPLE.items():
        pattern = params[name].get("AllowedPattern")
        for item in as_list(value):
            if pattern and name != "SesTemplateNamePattern":
                assert re.fullmatch(pattern, item), name
                assert not re.fullmatch(pattern, "*"), name
    assert re.fullmatch(params["SesTemplateNamePattern"]["AllowedPattern"], "smartrouter-*")


def test_ses_event_destination_publishes_what_the_ses_rule_listens_to(template):
    destination = template["Resources"]["SesEventBridgeDestination"]["Properties"]
    event_destination = destination["EventDestination"]
    assert event_destination["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"].endswith(
        ":event-bus/default")  # SES supports only the default bus
    published = {SES_EVENT_TYPES[t] for t in event_destination["MatchingEventTypes"]}
    ses_rule = template["Resources"]["SesEventsRule"]["Properties"]["EventPattern"]
    assert published == set(ses_rule["detail-type"])


def test_queues_are_encrypted_and_the_dlq_outlives_the_queue(template):
    queue = template["Resources"]["DeliveryEventsQueue"]["Properties"]
    dlq = template["Resources"]["DeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    retention = template["Parameters"]["MessageRetentionSeconds"]
    assert dlq["MessageRetentionPeriod"] >= retention["MaxValue"] >= retention["Default"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == \
        {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    # The longest a batch is held (produce timeout + ack margin) plus a delete call.
    held = IngestConfig(queue_url="q", bootstrap="b", topic="t").produce_timeout_s + ACK_MARGIN_S
    assert template["Parameters"]["VisibilityTimeoutSeconds"]["MinValue"] >= held + 5


def test_outputs_name_the_queue_and_both_policies(template):
    outputs = template["Outputs"]
    assert outputs["QueueUrl"]["Value"] == {"Ref": "DeliveryEventsQueue"}
    assert outputs["IngestWorkerPolicyArn"]["Value"] == {"Ref": "IngestWorkerPolicy"}
    assert outputs["SmartRouterWorkerPolicyArn"]["Value"] == {"Ref": "SmartRouterWorkerPolicy"}


def test_cfn_lint_finds_nothing():
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed")
    matches = api.lint_file(TEMPLATE, config=api.ManualArgs(include_checks=["I"]))
    assert [str(m) for m in matches] == []
