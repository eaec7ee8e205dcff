"""Read business-type definitions from TOML files: the built-in ones shipped in the package
and any folder a deployment adds. Pure: files in, validated definitions out, no database.

A broken file stops the load with a ``BusinessTypeFileError`` naming the file and every
field/rule it breaks, so an operator fixes it before the service starts.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import ValidationError

from booklnk.business_types.definition import BusinessTypeDefinition, definition_issues
from booklnk.kernel.errors import FieldIssue

_BUILTIN_PACKAGE = "booklnk.business_types"
_BUILTIN_FOLDER = "builtin"


class BusinessTypeFileError(Exception):
    """A definition file that cannot be used, with each problem as a ``FieldIssue``."""

    def __init__(self, source: str, issues: Sequence[FieldIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        lines = [f"  - {i.field or '<file>'} [{i.rule}]: {i.message}" for i in self.issues]
        super().__init__(f"{source}: invalid business type definition\n" + "\n".join(lines))


def parse_definition(data: Mapping[str, object], source: str) -> BusinessTypeDefinition:
    """Validate already-parsed definition data; ``source`` names it in errors."""
    try:
        return BusinessTypeDefinition.model_validate(dict(data))
    except ValidationError as exc:
        raise BusinessTypeFileError(source, definition_issues(exc)) from exc


def builtin_definitions() -> list[BusinessTypeDefinition]:
    """The definitions shipped with Booklnk (barbershop, consultant, gym), sorted by file."""
    return _unique_keys(_builtin_sources())


def load_folder(path: Path) -> list[BusinessTypeDefinition]:
    """Every ``*.toml`` directly in ``path``, sorted by file name."""
    return _unique_keys(_folder_sources(path))


def load_definitions(folders: Iterable[Path] = ()) -> list[BusinessTypeDefinition]:
    """Built-ins plus every extra folder; a key defined twice anywhere is an error."""
    loaded = _builtin_sources()
    for folder in folders:
        loaded += _folder_sources(folder)
    return _unique_keys(loaded)


# (source, definition): the source is kept only to name both files of a duplicate key.
_Loaded = list[tuple[str, BusinessTypeDefinition]]


def _builtin_sources() -> _Loaded:
    folder = resources.files(_BUILTIN_PACKAGE).joinpath(_BUILTIN_FOLDER)
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".toml")),
        key=lambda entry: entry.name,
    )
    return [(f"builtin/{e.name}", _load_file(e, f"builtin/{e.name}")) for e in entries]


def _folder_sources(path: Path) -> _Loaded:
    if not path.is_dir():
        raise BusinessTypeFileError(str(path), [FieldIssue("", "not_a_directory", "no such folder")])
    return [(str(file), _load_file(file, str(file))) for file in sorted(path.glob("*.toml"))]


def _load_file(file: Traversable, source: str) -> BusinessTypeDefinition:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BusinessTypeFileError(source, [FieldIssue("", "toml_syntax", str(exc))]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BusinessTypeFileError(source, [FieldIssue("", "unreadable", str(exc))]) from exc
    return parse_definition(data, source)


def _unique_keys(loaded: _Loaded) -> list[BusinessTypeDefinition]:
    first_source: dict[str, str] = {}
    for source, definition in loaded:
        where = first_source.setdefault(definition.key, source)
        if where != source:
            message = f"key {definition.key!r} is already defined by {where}"
            raise BusinessTypeFileError(source, [FieldIssue("key", "duplicate_key", message)])
    return [definition for _, definition in loaded]
