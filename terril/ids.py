"""Identifiers: one strict pattern for sites, meters, devices, arrays and topic segments.

Every identifier is checked here wherever it enters (topic, payload, registry,
CLI option) before it can reach line protocol or an InfluxQL query.
"""

from __future__ import annotations

import re

from terril.errors import IdentifierError

#: Lower-case ASCII letters and digits, then up to 63 of letters, digits, ``-`` and ``_``.
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)
ID_RULE = "1 to 64 characters: lower-case letters a-z, digits, '-' or '_', starting with a letter or digit"


def is_valid_id(value: object) -> bool:
    """True when ``value`` is a string matching :data:`ID_PATTERN`."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def validate_id(value: object, kind: str = "identifier") -> str:
    """Return ``value`` if it is a valid identifier, else raise :class:`IdentifierError`.

    ``kind`` names what the identifier is (``"site"``, ``"meter"`` ...) for the message.
    """
    if is_valid_id(value):
        return value  # type: ignore[return-value]
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise IdentifierError(f"invalid {kind} id {shown}: expected {ID_RULE}")
