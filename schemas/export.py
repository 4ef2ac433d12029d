"""Generate the published contract: one JSON Schema per topic plus an AsyncAPI 3 document.

The files are generated from the pydantic models (through ``smartrouter.schemas.topics.TOPICS``),
never written by hand, and are byte-for-byte deterministic so CI can check that the
checked-in copies are current (``check_schemas``).

The AsyncAPI document describes the Smart Router application, so its operations are
Smart Router's own (AsyncAPI 3 semantics): it *receives* on the topics producers write
(intents, customer-updates, inbound, campaigns, delivery-raw) and *sends* on the topics
users consume (decisions, delivery, dead-letters). A producer does the opposite.

Run ``python -m schemas.export DIR`` to write, ``python -m schemas.export --check DIR``
to verify (exit status 1 and the stale file names when something differs).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from smartrouter.schemas.examples import EXAMPLES
from smartrouter.schemas.topics import TOPICS, TopicSpec, json_schema

__all__ = [
    "ASYNCAPI_FILE",
    "asyncapi_document",
    "check_schemas",
    "export_schemas",
    "package_version",
    "render_schemas",
]

ASYNCAPI_FILE = "asyncapi.yaml"
SCHEMA_SUFFIX = ".schema.json"
KAFKA_BINDING_VERSION = "0.5.0"
_COMPONENT_SCHEMAS = "#/components/schemas/"
_INTERNAL_NOTE = "Internal (engine only, not part of the public contract). "


def package_version() -> str:
    """The installed smartrouter version, else the source tree's, else ``0.0.0``."""
    try:
        return importlib.metadata.version("smartrouter")
    except importlib.metadata.PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        if project["name"] == "smartrouter":
            return str(project["version"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        pass
    return "0.0.0"


def schema_file_name(spec: TopicSpec) -> str:
    return f"{spec.name}{SCHEMA_SUFFIX}"


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _asyncapi_discriminators(node: Any) -> Any:
    """Pydantic writes OpenAPI's discriminator object; the AsyncAPI schema wants a string."""
    if isinstance(node, dict):
        out = {key: _asyncapi_discriminators(value) for key, value in node.items()}
        discriminator = out.get("discriminator")
        if isinstance(discriminator, dict) and "propertyName" in discriminator:
            out["discriminator"] = discriminator["propertyName"]
        return out
    if isinstance(node, list):
        return [_asyncapi_discriminators(item) for item in node]
    return node


def _payload_schemas() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Payload per topic name (each a ``$ref``) and every schema they need, by name."""
    mapping, definitions = TypeAdapter.json_schemas(
        [(spec.name, spec.schema_mode, spec.adapter) for spec in TOPICS],
        ref_template=_COMPONENT_SCHEMAS + "{model}",
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    payloads: dict[str, dict[str, Any]] = {}
    for spec in TOPICS:
        payload = mapping[(spec.name, spec.schema_mode)]
        if "$ref" not in payload:  # a union or a plain JSON object: name it
            if spec.title in schemas:
                raise ValueError(f"schema name {spec.title!r} is used twice")
            schemas[spec.title] = {"title": spec.title, **payload}
            payload = {"$ref": _COMPONENT_SCHEMAS + spec.title}
        payloads[spec.name] = payload
    return payloads, {name: schemas[name] for name in sorted(schemas)}


def asyncapi_document(version: str | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of the whole topology, as plain data."""
    payloads, schemas = _payload_schemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in TOPICS:
        if spec.title in messages:
            raise ValueError(f"message name {spec.title!r} is used twice")
        description = (_INTERNAL_NOTE if spec.internal else "") + spec.description
        messages[spec.title] = {
            "name": spec.title,
            "title": spec.title,
            "summary": f"A value on the {spec.name} topic.",
            "description": description,
            "contentType": "application/json",
            "payload": payloads[spec.name],
            "examples": [
                {"name": f"{spec.name}-{number}", "payload": example}
                for number, example in enumerate(EXAMPLES.get(spec.name, []), start=1)
            ],
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": spec.key_description},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        channel: dict[str, Any] = {
            "address": spec.name,
            "title": spec.name,
            "description": description,
            "messages": {spec.title: {"$ref": f"#/components/messages/{spec.title}"}},
        }
        kafka_binding: dict[str, Any] = {"topic": spec.name}
        if spec.compacted:
            kafka_binding["topicConfiguration"] = {"cleanup.policy": ["compact"]}
        channel["bindings"] = {"kafka": kafka_binding | {"bindingVersion": KAFKA_BINDING_VERSION}}
        if spec.internal:
            channel["tags"] = [{"name": "internal"}]
        channels[spec.name] = channel
        if spec.operation is not None:
            verb = "Smart Router reads" if spec.operation == "receive" else "Smart Router writes"
            operations[f"{spec.operation}{_pascal(spec.name)}"] = {
                "action": spec.operation,
                "channel": {"$ref": f"#/channels/{spec.name}"},
                "summary": f"{verb} {spec.name}.",
                "messages": [{"$ref": f"#/channels/{spec.name}/messages/{spec.title}"}],
            }
    document = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Smart Router",
            "version": version or package_version(),
            "description": (
                "Kafka-native decision engine for customer messaging: send or not, which "
                "channel, which minute. Operations are Smart Router's own: it receives what "
                "producers write and sends what consumers read. Topic names may carry a "
                "deployment prefix. Generated from the pydantic models in schemas/; do not "
                "edit by hand."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded broker the CLI starts by default.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
    return _asyncapi_discriminators(document)


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _yaml_text(data: Any) -> str:
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )


def render_schemas(version: str | None = None) -> dict[str, str]:
    """File name -> exact text of every generated file, in topic order."""
    files = {schema_file_name(spec): _json_text(json_schema(spec)) for spec in TOPICS}
    files[ASYNCAPI_FILE] = _yaml_text(asyncapi_document(version))
    return files


def export_schemas(out_dir: Path, version: str | None = None) -> list[Path]:
    """Write every topic's JSON Schema and ``asyncapi.yaml`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas(version).items():
        path = out_dir / name
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written


def check_schemas(directory: Path, version: str | None = None) -> list[str]:
    """Names of files in ``directory`` that are missing, differ from what would be
    generated, or are schema files for topics that no longer exist. Empty when current."""
    directory = Path(directory)
    expected = render_schemas(version)
    stale = [
        name
        for name, text in expected.items()
        if not (directory / name).is_file()
        or (directory / name).read_bytes() != text.encode("utf-8")
    ]
    if directory.is_dir():
        stale += [
            path.name for path in directory.glob(f"*{SCHEMA_SUFFIX}") if path.name not in expected
        ]
    return sorted(stale)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smartrouter.schemas.export",
        description="Write (or --check) the topic JSON Schemas and asyncapi.yaml.",
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--check", action="store_true", help="only verify, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = check_schemas(args.directory)
        for name in stale:
            print(f"out of date: {args.directory / name}", file=sys.stderr)
        return 1 if stale else 0
    for path in export_schemas(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
