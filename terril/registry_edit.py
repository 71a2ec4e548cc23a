"""Editing the registry file from the command line: add an entry, validate the result, keep the comments.

:func:`add_entry` appends one ``[[sites]]``, ``[[meters]]`` or ``[[devices]]`` table with
:mod:`tomlkit` (the file's comments, order and layout stay as they are), validates the whole
new registry with :func:`terril.registry.parse_registry` (plus an optional ``check``), and only
then replaces the file atomically (same permissions). Nothing is written when any problem is
found: the :class:`~terril.errors.RegistryError` lists them all.

A running collector sees the new file within a second and reloads it (docs/delivery.md).
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from terril.errors import RegistryError, RegistryProblem
from terril.registry import DEMO_REGISTRY_PATH, Registry, parse_registry

#: Sections an entry may be added to, and the key that identifies an entry.
EDITABLE_SECTIONS = {"sites": "id", "meters": "id", "devices": "id"}


def _item(value: Any) -> Any:
    """A tomlkit value: lists of tables become arrays of inline tables (``channels = [{ ... }]``)."""
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        for k, v in value.items():
            table[k] = _item(v)
        return table
    if isinstance(value, (list, tuple)):
        arr = tomlkit.array()
        for v in value:
            arr.append(_item(v))
        return arr
    return value


def add_entry(path: str | os.PathLike[str], section: str, entry: Mapping[str, Any], *,
              check: Callable[[Registry], None] | None = None) -> Registry:
    """Append ``entry`` to ``section`` of the registry file at ``path``; return the new, validated registry.

    Raises RegistryError (nothing written) when the file cannot be read, the id is taken, or the
    resulting registry has problems; ``check`` may raise too (e.g. broker topic clashes).
    """
    p = Path(path)
    if section not in EDITABLE_SECTIONS:
        raise ValueError(f"section {section!r} cannot be edited here")
    if p.resolve() == DEMO_REGISTRY_PATH.resolve():
        raise RegistryError("the bundled demo registry is read-only",
                            [RegistryProblem(str(p), "file", "read-only")],
                            hint="copy it, then pass --registry FILE (or set TERRIL_REGISTRY)")
    try:
        text = p.read_text(encoding="utf-8") if p.exists() else ""
        doc = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, TOMLKitError) as err:
        raise RegistryError(f"{p}: cannot read the registry: {err}", [RegistryProblem(str(p), "file", str(err))],
                            hint=f"fix it first: `terril registry check {p}`") from None
    key = EDITABLE_SECTIONS[section]
    tables = doc.get(section)
    if tables is None:
        tables = tomlkit.aot()
        doc.append(section, tables)
    elif not isinstance(tables, list):
        raise RegistryError(f"{p}: {section} is not an array of tables", [RegistryProblem(str(p), section,
                                                                                           f"expected [[{section}]]")])
    if any(isinstance(t, Mapping) and t.get(key) == entry[key] for t in tables):
        raise RegistryError(f"{p}: {section} already holds {key} {entry[key]!r}",
                            [RegistryProblem(str(p), f"{section} (id {entry[key]!r})", "duplicate id")])
    table = tomlkit.table()
    for k, v in entry.items():
        table[k] = _item(v)
    tables.append(table)
    new_text = tomlkit.dumps(doc)
    registry = parse_registry(tomllib.loads(new_text), source=str(p))  # raises RegistryError listing every problem
    if check is not None:
        check(registry)
    _replace(p, new_text)
    return registry


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a reader sees the old file or the new one, never half)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
