"""streams.clients.prepare_lines: which JSON lines are sent, with which key, and why not."""

from __future__ import annotations

import json

from smartrouter.schemas.common import MAX_MESSAGE_BYTES
from smartrouter.schemas.topics import topic_spec
from smartrouter.streams.clients import key_of, prepare_lines

INTENTS = topic_spec("intents")
UPDATES = topic_spec("customer-updates")


def intent_line(intent_id: str, customer_id: str = "c-1", **extra: object) -> str:
    return json.dumps({"intent_id": intent_id, "campaign_id": "camp",
                       "customer_id": customer_id, **extra})


def test_valid_lines_are_sent_as_written_keyed_by_the_topic_key():
    lines = [intent_line("i-1", "c-1") + "\n", "  " + intent_line("i-2", "c-2") + "  \n"]
    prepared = list(prepare_lines(lines, INTENTS))
    assert [p.ok for p in prepared] == [True, True]
    assert [p.line_no for p in prepared] == [1, 2]
    assert [p.key for p in prepared] == [b"c-1", b"c-2"]
    assert prepared[0].value == intent_line("i-1", "c-1").encode()
    assert prepared[1].value == intent_line("i-2", "c-2").encode()  # stripped


def test_rejected_lines_carry_their_line_numbers_and_blank_lines_count():
    lines = [
        intent_line("i-1"),          # 1 ok
        "",                          # 2 blank: skipped, but counted
        "   \t",                     # 3 blank
        '{"intent_id": ',            # 4 invalid JSON
        intent_line("i-2"),          # 5 ok
        intent_line("i-3", channels=["fax"]),  # 6 validation
        "[1, 2]",                    # 7 JSON but not an object
        "\n",                        # 8 blank
        intent_line("i-4"),          # 9 ok
    ]
    prepared = list(prepare_lines(lines, INTENTS))
    assert [p.line_no for p in prepared] == [1, 4, 5, 6, 7, 9]
    assert [p.line_no for p in prepared if p.ok] == [1, 5, 9]
    rejected = {p.line_no: p for p in prepared if not p.ok}
    assert set(rejected) == {4, 6, 7}
    for p in rejected.values():
        assert p.key is None and p.value is None
    assert rejected[4].error.startswith("invalid JSON:")
    assert "channels.0" in rejected[6].error and "enum" in rejected[6].error
    assert "expected a JSON object" in rejected[7].error


def test_validation_errors_do_not_echo_input_values():
    phone, email = "+44 20 7946 0958", "bob@@example.com"
    line = json.dumps({"type": "profile", "customer_id": "c-1",
                       "contacts": {"sms": phone, "email": email}})
    [p] = prepare_lines([line], UPDATES)
    assert not p.ok
    assert "contacts.sms" in p.error and "contacts.email" in p.error
    assert phone not in p.error and email not in p.error


def test_unknown_field_is_rejected_by_the_contract():
    [p] = prepare_lines([intent_line("i-1", not_befor="2026-01-01T00:00:00Z")], INTENTS)
    assert not p.ok and "extra_forbidden" in p.error


def test_missing_key_field_rejects_an_otherwise_valid_line():
    [p] = prepare_lines([intent_line("i-1")], INTENTS, key_field="tenant_id")
    assert not p.ok
    assert p.error == "no key: field 'tenant_id' is missing"


def test_explicit_key_field_overrides_the_topic_key():
    [p] = prepare_lines([intent_line("i-7", "c-1")], INTENTS, key_field="intent_id")
    assert p.ok and p.key == b"i-7"


def test_dotted_key_field_reads_nested_values():
    line = intent_line("i-1", content={"sms": {"template_id": "tpl-9", "variables": {"n": 3}}})
    [p] = prepare_lines([line], INTENTS, key_field="content.sms.template_id")
    assert p.ok and p.key == b"tpl-9"
    [p] = prepare_lines([line], INTENTS, key_field="content.sms.variables.n")
    assert p.ok and p.key == b"3"
    [p] = prepare_lines([line], INTENTS, key_field="content.email.template_id")
    assert not p.ok and "content.email.template_id" in p.error


def test_key_of_edge_cases():
    assert key_of({"a": {"b": None}}, "a.b") is None
    assert key_of({"a": "scalar"}, "a.b") is None
    assert key_of({"n": 0}, "n") == b"0"
    assert key_of({"flag": False}, "flag") == b"False"


def test_no_validate_sends_everything_that_is_not_blank():
    lines = [intent_line("i-1", "c-1"), "", "{not json", intent_line("i-2", "c-2",
                                                                      channels=["fax"]), "[3]"]
    prepared = list(prepare_lines(lines, INTENTS, validate=False))
    assert all(p.ok for p in prepared)
    assert [p.line_no for p in prepared] == [1, 3, 4, 5]
    assert [p.key for p in prepared] == [b"c-1", None, b"c-2", None]
    assert prepared[1].value == b"{not json"
    assert prepared[3].value == b"[3]"


def test_line_over_the_size_limit_is_rejected_only_when_validating():
    variables = {f"v{i}": "y" * 1000 for i in range(50)}
    big = intent_line("i-1", content={"sms": {"body": "x", "variables": variables},
                                      "email": {"body": "x", "variables": variables}})
    assert len(big.encode()) > MAX_MESSAGE_BYTES
    [p] = prepare_lines([big], INTENTS)
    assert not p.ok and str(MAX_MESSAGE_BYTES) in p.error
    [p] = prepare_lines([big], INTENTS, validate=False)
    assert p.ok and p.key == b"c-1"
