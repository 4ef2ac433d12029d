"""The layout is the architecture: imports run one way, and everything installs under smartrouter.

Read from the source (an AST walk, function-level imports included), so the check holds for
lazy imports too and needs nothing installed. docs/architecture.md draws the same layers.
"""

from __future__ import annotations

import ast
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Low to high. A package may import from its own layer's package and from lower layers;
#: packages sharing a layer do not import each other.
LAYERS: list[set[str]] = [
    {"schemas"},  # contracts
    {"engine"},  # pure decisions, state transitions, models: no I/O
    {"config"},  # the one settings root
    {"adapters"},  # the outside world: AWS senders, SQS, the Iceberg lake, guardrail backends
    {"steps"},  # one agent step each, collaborators passed in: testable without a broker
    {"streams"},  # Kafka and Faust: app, topics, tables, codec, pipeline, compat workarounds
    {"agents", "local"},  # thin Faust agents | local processes (embedded broker, supervisor)
    {"sim", "testing"},  # simulator and demo | pytest plugin, containers, AWS fakes
    {"cli"},  # every command
]
PACKAGES = [name for layer in LAYERS for name in sorted(layer)]
#: Libraries that do I/O or drive a runtime: none of them in the pure core.
IO_LIBRARIES = {"faust", "mode", "aiokafka", "boto3", "botocore", "pyiceberg", "duckdb",
                "typer", "rich", "torch", "sentence_transformers", "matplotlib", "pytest",
                "testcontainers", "requests", "urllib3", "socket", "subprocess"}
#: Where Faust and mode may be imported: the streams layer and the agents on top of it.
FAUST_USERS = {"streams", "agents", "local", "sim", "testing", "cli"}


def _layer_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


@cache
def _imports(package: str) -> list[tuple[str, int, str]]:
    """(file, line, imported module) for every absolute import under ``package/``."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            rel = str(path.relative_to(ROOT))
            found += [(rel, node.lineno, name) for name in names]
    return found


def _existing() -> list[str]:
    return [name for name in PACKAGES if (ROOT / name).is_dir()]


def test_every_source_folder_is_a_known_layer():
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"smartrouter", "tests"}
    assert folders <= set(PACKAGES), f"folders in no layer: {sorted(folders - set(PACKAGES))}"


def test_imports_run_one_way():
    wrong = []
    for package in _existing():
        mine = _layer_of(package)
        for file, line, module in _imports(package):
            parts = module.split(".")
            if parts[0] != "smartrouter" or len(parts) < 2 or parts[1] == package:
                continue
            other = parts[1]
            if other not in PACKAGES:
                wrong.append(f"{file}:{line} imports {module}: not a package of a layer")
            elif _layer_of(other) >= mine:
                wrong.append(f"{file}:{line} ({package}) imports {module} "
                             f"({other}, {'same' if _layer_of(other) == mine else 'higher'} "
                             "layer)")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_nothing_imports_the_old_top_level_names():
    old = set(PACKAGES)
    wrong = [f"{file}:{line} imports {module}"
             for package in [*_existing(), "tests", "bench"]
             for file, line, module in _imports(package)
             if module.split(".")[0] in old]
    assert not wrong, "import through smartrouter.<package>:\n" + "\n".join(wrong)


def test_the_engine_does_no_io():
    wrong = [f"{file}:{line} imports {module}"
             for package in ("schemas", "engine")
             for file, line, module in _imports(package)
             if module.split(".")[0] in IO_LIBRARIES]
    assert not wrong, "the pure core imports I/O libraries:\n" + "\n".join(wrong)


def test_faust_stays_in_the_streams_layer_and_above():
    wrong = [f"{file}:{line} imports {module}"
             for package in _existing() if package not in FAUST_USERS
             for file, line, module in _imports(package)
             if module.split(".")[0] in {"faust", "mode"}]
    assert not wrong, "faust/mode imported below streams:\n" + "\n".join(wrong)


def test_the_wheel_maps_every_package_under_one_namespace():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = config["package-dir"]
    assert mapped.pop("smartrouter") == "smartrouter"
    assert mapped == {f"smartrouter.{name}": name for name in _existing()}, mapped
    on_disk = {"smartrouter"} | {
        "smartrouter." + ".".join(init.parent.relative_to(ROOT).parts)
        for name in _existing() for init in (ROOT / name).rglob("__init__.py")}
    listed = set(config["packages"])
    assert listed == on_disk, (f"packages missing from pyproject: {sorted(on_disk - listed)}; "
                               f"listed but absent: {sorted(listed - on_disk)}")
    assert all(name.startswith("smartrouter") for name in listed)


#: Modules aim at ~300 lines; past this a module holds more than one job (bench/ excepted).
MAX_MODULE_LINES = 350
#: No package may grow into a storeroom again.
MAX_PACKAGE_SHARE = 0.25


def test_no_module_outgrows_one_job():
    long = {str(path.relative_to(ROOT)): n
            for folder in [*_existing(), "tests"]
            for path in (ROOT / folder).rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them): {long}"


def test_no_package_holds_more_than_a_quarter_of_the_code():
    lines = {name: sum(len(p.read_text().splitlines()) for p in (ROOT / name).rglob("*.py"))
             for name in _existing()}
    total = sum(lines.values())
    largest = max(lines, key=lines.__getitem__)
    assert lines[largest] <= MAX_PACKAGE_SHARE * total, (
        f"{largest}/ holds {lines[largest] / total:.0%} of the code: {lines}")
