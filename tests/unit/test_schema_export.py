"""The generated JSON Schemas and AsyncAPI document: complete, deterministic, self-contained."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from smartrouter.schemas import TOPICS, json_schema, topic_spec
from smartrouter.schemas.examples import EXAMPLES
from smartrouter.schemas.export import (
    ASYNCAPI_FILE,
    asyncapi_document,
    check_schemas,
    export_schemas,
    main,
    package_version,
)

try:
    import jsonschema
except ImportError:  # the test extra installs it; without it only these checks are skipped
    jsonschema = None

needs_jsonschema = pytest.mark.skipif(jsonschema is None, reason="jsonschema not installed")

TOPIC_FILES = sorted(f"{spec.name}.schema.json" for spec in TOPICS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("schemas")
    export_schemas(out, version="1.2.3")
    return out


@pytest.fixture(scope="module")
def asyncapi(exported: Path) -> dict[str, Any]:
    return yaml.safe_load((exported / ASYNCAPI_FILE).read_text(encoding="utf-8"))


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and token in node, f"{ref} does not resolve"
        node = node[token]
    return node


def test_one_schema_per_topic_and_the_asyncapi_document(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert sorted(path.name for path in written) == sorted([*TOPIC_FILES, ASYNCAPI_FILE])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*TOPIC_FILES, ASYNCAPI_FILE])
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n")


def test_export_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    export_schemas(first)
    export_schemas(second)
    for name in [*TOPIC_FILES, ASYNCAPI_FILE]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_schema_files_are_sorted_indented_json(exported: Path) -> None:
    for name in TOPIC_FILES:
        text = (exported / name).read_text(encoding="utf-8")
        data = json.loads(text)
        assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        spec = topic_spec(name.removesuffix(".schema.json"))
        assert data["$id"] == f"urn:smartrouter:topic:{spec.name}"
        assert data["title"] == spec.title
        assert data == json_schema(spec)


@needs_jsonschema
def test_every_schema_is_a_valid_json_schema(exported: Path) -> None:
    for name in TOPIC_FILES:
        jsonschema.Draft202012Validator.check_schema(json.loads((exported / name).read_text()))


@needs_jsonschema
@pytest.mark.parametrize(
    ("topic", "example"),
    [(name, example) for name, examples in EXAMPLES.items() for example in examples],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_examples_validate_against_the_exported_schema(
    exported: Path, topic: str, example: dict[str, Any]
) -> None:
    schema = json.loads((exported / f"{topic}.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(example)


def _intent(**extra: Any) -> dict[str, Any]:
    return {"intent_id": "i", "campaign_id": "c", "customer_id": "c"} | extra


@needs_jsonschema
@pytest.mark.parametrize(
    ("topic", "bad"),
    [
        ("intents", _intent(intent_id="x" * 129)),
        ("intents", _intent(typo=1)),
        ("intents", _intent(channels=["fax"])),
        ("intents", _intent(channels=["sms", "sms"])),
        ("intents", _intent(content={"sms": {"subject": "no template, no body"}})),
        ("intents", _intent(content={"sms": {"template_id": None, "body": None}})),
        ("customer-updates", {"type": "profile", "customer_id": "c", "contacts": {"sms": "0415"}}),
        ("customer-updates", {"type": "unknown", "customer_id": "c"}),
        ("campaigns", {"campaign_id": "c", "currency": "usd"}),
        ("campaigns", {"campaign_id": "c", "budget": "-5"}),
        ("inbound", {"customer_id": "c", "channel": "sms", "text": "", "received_at": "x"}),
        ("decisions", EXAMPLES["decisions"][0] | {"channel": None}),
        ("decisions", {k: v for k, v in EXAMPLES["decisions"][0].items() if k != "send_at"}),
        ("delivery-raw", ["not", "an", "object"]),
    ],
)
def test_exported_schema_rejects_what_the_model_rejects(
    exported: Path, topic: str, bad: Any
) -> None:
    schema = json.loads((exported / f"{topic}.schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_outputs_are_described_as_written(exported: Path) -> None:
    """Money is written as a string, so the output schema says string, not number."""
    delivery = json.loads((exported / "delivery.schema.json").read_text())
    cost = delivery["properties"]["cost"]["anyOf"]
    assert {"type": "null"} in cost and all(option["type"] != "number" for option in cost)
    campaigns = json.loads((exported / "campaigns.schema.json").read_text())
    assert campaigns["additionalProperties"] is False  # inputs: unknown fields rejected
    assert "additionalProperties" not in delivery  # outputs: readers ignore new fields


def test_asyncapi_document_shape(asyncapi: dict[str, Any]) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    assert asyncapi["info"]["title"] == "Smart Router"
    assert asyncapi["info"]["version"] == "1.2.3"
    assert asyncapi["defaultContentType"] == "application/json"
    assert asyncapi["servers"]["embedded"] == {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": asyncapi["servers"]["embedded"]["description"],
    }
    assert {name: channel["address"] for name, channel in asyncapi["channels"].items()} == {
        spec.name: spec.name for spec in TOPICS
    }
    actions = {op["channel"]["$ref"]: op["action"] for op in asyncapi["operations"].values()}
    assert actions == {
        "#/channels/intents": "receive",
        "#/channels/customer-updates": "receive",
        "#/channels/inbound": "receive",
        "#/channels/campaigns": "receive",
        "#/channels/delivery-raw": "receive",
        "#/channels/decisions": "send",
        "#/channels/delivery": "send",
        "#/channels/keyword-acks": "send",
        "#/channels/dead-letters": "send",
    }
    assert asyncapi["channels"]["scheduled"]["description"].startswith("Internal")
    compact = asyncapi["channels"]["campaigns"]["bindings"]["kafka"]["topicConfiguration"]
    assert compact == {"cleanup.policy": ["compact"]}


def test_asyncapi_messages_carry_payload_and_kafka_key(asyncapi: dict[str, Any]) -> None:
    messages = asyncapi["components"]["messages"]
    assert len(messages) == len(TOPICS)
    for spec in TOPICS:
        message = messages[spec.title]
        assert message["payload"] == {"$ref": f"#/components/schemas/{spec.title}"}
        assert message["bindings"]["kafka"] == {
            "key": {"type": "string", "description": spec.key_description},
            "bindingVersion": "0.5.0",
        }
        assert [example["payload"] for example in message["examples"]] == EXAMPLES[spec.name]


def test_every_ref_in_asyncapi_resolves_inside_the_document(asyncapi: dict[str, Any]) -> None:
    found = list(refs(asyncapi))
    assert len(found) > 50
    for ref in found:
        resolve(asyncapi, ref)
    assert "$defs" not in json.dumps(asyncapi)


@needs_jsonschema
def test_asyncapi_payloads_accept_the_examples(asyncapi: dict[str, Any]) -> None:
    """Each payload schema, resolved inside the document, validates the examples."""
    for spec in TOPICS:
        payload = {"$ref": f"#/components/schemas/{spec.title}"}
        schema = {"components": asyncapi["components"]} | payload
        validator = jsonschema.Draft7Validator(schema)
        for example in EXAMPLES[spec.name]:
            validator.validate(example)


def test_asyncapi_uses_the_asyncapi_discriminator_form(asyncapi: dict[str, Any]) -> None:
    assert asyncapi["components"]["schemas"]["CustomerUpdate"]["discriminator"] == "type"


def test_asyncapi_yaml_is_exactly_the_document(exported: Path, asyncapi: dict[str, Any]) -> None:
    assert asyncapi == asyncapi_document("1.2.3")


def test_check_schemas_reports_modified_missing_and_stale_files(
    exported: Path, tmp_path: Path
) -> None:
    export_schemas(tmp_path, version="1.2.3")
    assert check_schemas(tmp_path, version="1.2.3") == []
    assert check_schemas(tmp_path, version="9.9.9") == [ASYNCAPI_FILE]

    intents = tmp_path / "intents.schema.json"
    intents.write_text(intents.read_text().replace('"maxLength": 128', '"maxLength": 64'))
    (tmp_path / "decisions.schema.json").unlink()
    (tmp_path / "retired-topic.schema.json").write_text("{}\n")
    (tmp_path / "README.md").write_text("not ours\n")
    assert check_schemas(tmp_path, version="1.2.3") == [
        "decisions.schema.json",
        "intents.schema.json",
        "retired-topic.schema.json",
    ]

    export_schemas(tmp_path, version="1.2.3")
    (tmp_path / "retired-topic.schema.json").unlink()
    assert check_schemas(tmp_path, version="1.2.3") == []


def test_check_schemas_on_a_missing_directory(tmp_path: Path) -> None:
    assert check_schemas(tmp_path / "nope") == sorted([*TOPIC_FILES, ASYNCAPI_FILE])


def test_command_line(tmp_path: Path) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0


def test_package_version_is_a_version_string() -> None:
    version = package_version()
    assert version and version[0].isdigit()
