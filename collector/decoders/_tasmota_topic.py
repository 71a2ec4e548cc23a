"""Tasmota's topic layout: which levels of a topic are the device's ``<topic>``, the prefix
(``tele``/``stat``) and the message kind, whatever the FullTopic.

Used by the Tasmota decoder and by the Linky TIC decoder (which recognises TIC frames a
Tasmota Teleinfo driver relays); kept apart so that neither decoder imports the other both ways.
"""

from __future__ import annotations

from collector.decoders._common import topic_levels

PREFIXES = ("tele", "stat")
KINDS = {"tele": ("SENSOR", "STATE", "LWT"), "stat": ("STATUS8", "STATUS10")}


def split_topic(topic: str) -> tuple[str, str, str] | None:
    """A Tasmota topic -> (device topic, prefix, kind), or None when the layout is not Tasmota's."""
    parts = topic_levels(topic)
    if parts is None or len(parts) < 3:
        return None
    kind = parts[-1]
    if parts[-2] in PREFIXES:  # %topic%/%prefix%/ (custom FullTopic, any depth before)
        prefix, device = parts[-2], parts[-3]
    elif parts[0] in PREFIXES and len(parts) == 3:  # %prefix%/%topic%/
        prefix, device = parts[0], parts[1]
    else:
        return None
    if kind not in KINDS[prefix]:
        return None
    return device, prefix, kind
