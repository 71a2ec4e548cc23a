"""Which MQTT topics a device may publish and subscribe to, derived from its registry format and topic.

Pure. One table (:data:`FORMAT_TOPICS`) gives, per payload format, the topic
filter templates of a device's own namespace; ``{key}`` is the device key the
decoders resolve (``Device.topic`` or, when empty, ``Device.id``) and ``{site}``
the device's site. The templates follow the layouts the decoders' ``topic_filters``
subscribe to, so that everything the collector reads is covered and nothing more.

A vendor topic key enters the broker's ACL file, so it is checked against one
strict pattern (:data:`TOPIC_KEY_LEVEL_PATTERN`): no spaces, quotes, wildcards,
``$``, control or non-ASCII characters. :func:`check_topics` refuses registries in
which two devices' namespaces overlap, or in which a device's namespace reaches
Terril's own topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from terril.errors import IdentifierError
from terril.ids import is_valid_id
from terril.registry import Device, Registry

#: One level of a vendor topic key: ASCII letters, digits, then ``_ . : -`` too (Tasmota, Shelly, serials).
TOPIC_KEY_LEVEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
_LEVEL_RE = re.compile(TOPIC_KEY_LEVEL_PATTERN)
#: Most levels a vendor topic key may have (a Shelly Gen2 custom prefix such as ``site/board/em``).
MAX_KEY_LEVELS = 4
#: Device accounts are named after the device id; service accounts start with this prefix.
SERVICE_ACCOUNT_PREFIX = "terril-"
#: Terril's own topics: written by the collector only.
OWN_TOPICS = ("terril/_collector/#", "terril/_alerts/#")
#: The native layout: only native devices may publish there.
NATIVE_TOPICS = ("terril/+/+/telemetry", "terril/+/+/status")


@dataclass(frozen=True, slots=True)
class FormatTopics:
    """Topic filter templates of one payload format: what a device publishes, what it may subscribe to."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...] = ()


#: Home Assistant discovery configs of a gateway, under its node id = its device key
#: (``homeassistant/<component>/<key>/[<object>/]config``)
HA_DISCOVERY = ("homeassistant/+/{key}/#",)
_TASMOTA_PUB = ("tele/{key}/#", "stat/{key}/#", "{key}/tele/#", "{key}/stat/#") + HA_DISCOVERY
_TASMOTA_SUB = ("cmnd/{key}/#", "{key}/cmnd/#")

#: format -> topic templates of a device's own namespace (``{key}``: device key, ``{site}``: its site).
FORMAT_TOPICS: dict[str, FormatTopics] = {
    "native": FormatTopics(("terril/{site}/{key}/#",)),
    "tasmota": FormatTopics(_TASMOTA_PUB, _TASMOTA_SUB),
    # Linky through Tasmota's Teleinfo driver, or teleinfo2mqtt's teleinfo/<ADCO|ADSC>
    "linky_tic": FormatTopics(_TASMOTA_PUB + ("teleinfo/{key}",), _TASMOTA_SUB),
    "shelly_gen1": FormatTopics(("shellies/{key}/#",) + HA_DISCOVERY, ("shellies/{key}/+/+/command", "shellies/{key}/command")),
    # exact suffixes, not "{key}/#": a prefix namespace would overlap the bridges' "+/inverter/<name>/values"
    "shelly_gen2": FormatTopics(("{key}/events/rpc", "{key}/status/+", "{key}/online") + HA_DISCOVERY, ("{key}/rpc", "{key}/command")),
    # inverters under the default base; a device whose key is the base itself covers the DTU totals
    "opendtu": FormatTopics(("solar/{key}/#", "{key}/ac/#", "{key}/dc/#", "{key}/dtu/#") + HA_DISCOVERY, ("solar/{key}/cmd/#",)),
    "ahoydtu": FormatTopics(("inverter/{key}/#", "{key}/total/#") + HA_DISCOVERY, ("inverter/ctrl/#",)),
    "wmbusmeters": FormatTopics(("wmbusmeters/{key}",) + HA_DISCOVERY),
    "sunspec": FormatTopics(tuple(f"+/{role}/{{key}}/{kind}" for role in ("inverter", "meter")
                                  for kind in ("values", "availability", "events", "device")) + ("pvsolar/{key}",) + HA_DISCOVERY),
    # a discovery node of its own (e.g. teleinfo2mqtt's fixed node ``teleinfo``): configs only, never readings
    "ha_discovery": FormatTopics(HA_DISCOVERY),
}


@dataclass(frozen=True, slots=True)
class DeviceTopics:
    """The topic filters of one device's account."""

    device: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def is_valid_topic_key(key: object) -> bool:
    """True when ``key`` is 1..4 levels, each matching :data:`TOPIC_KEY_LEVEL_PATTERN`."""
    if not isinstance(key, str) or not key:
        return False
    levels = key.split("/")
    return len(levels) <= MAX_KEY_LEVELS and all(_LEVEL_RE.fullmatch(level) for level in levels)


def validate_topic_key(key: object, what: str = "device topic") -> str:
    """Return ``key`` if it is a safe vendor topic key, else raise :class:`IdentifierError`."""
    if is_valid_topic_key(key):
        return key  # type: ignore[return-value]
    shown = repr(key)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise IdentifierError(f"invalid {what} {shown}: expected 1 to {MAX_KEY_LEVELS} levels separated by '/', "
                          "each of ASCII letters, digits, '_', '.', ':' or '-' (64 at most), starting with a letter "
                          "or digit")


def device_topics(device: Device) -> DeviceTopics:
    """The filters ``device`` may publish to and subscribe to. Raises IdentifierError or KeyError (unknown format)."""
    if not is_valid_id(device.id) or device.id.startswith(SERVICE_ACCOUNT_PREFIX):
        raise IdentifierError(f"device id {device.id[:64]!r} cannot name a broker account "
                              f"(ids starting with {SERVICE_ACCOUNT_PREFIX!r} are reserved for service accounts)")
    table = FORMAT_TOPICS.get(device.format)
    if table is None:
        raise KeyError(device.format)
    key = device.topic or device.id
    validate_topic_key(key, f"topic of device {device.id!r}")
    if device.format == "native" and key != device.id:
        raise IdentifierError(f"native device {device.id!r}: the topic is terril/<site>/<device>; leave 'topic' empty")

    def fill(templates: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(t.format(key=key, site=device.site) for t in templates)

    return DeviceTopics(device.id, fill(table.publish), fill(table.subscribe))


def filters_overlap(a: str, b: str) -> bool:
    """True when some topic matches both MQTT filters ``a`` and ``b`` (``+`` one level, ``#`` the rest)."""
    la, lb = a.split("/"), b.split("/")
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else None
        y = lb[i] if i < len(lb) else None
        if x == "#" or y == "#":
            return True
        if x is None or y is None:
            return False
        if x != y and x != "+" and y != "+":
            return False
    return True


def check_topics(registry: Registry) -> list[str]:
    """Problems that forbid generating broker accounts for ``registry`` (empty list when none).

    Unknown formats, unsafe topic keys, namespaces shared by two devices, and vendor
    namespaces reaching Terril's own or native topics.
    """
    problems: list[str] = []
    spaces: list[DeviceTopics] = []
    for d in registry.devices:
        try:
            spaces.append(device_topics(d))
        except KeyError:
            problems.append(f"device {d.id!r}: format {d.format!r} has no topic layout for the broker ACL "
                            f"(known: {', '.join(sorted(FORMAT_TOPICS))})")
        except IdentifierError as err:
            problems.append(err.message)
    by_id = registry.device_by_id
    for i, a in enumerate(spaces):
        reserved = OWN_TOPICS + (() if by_id[a.device].format == "native" else NATIVE_TOPICS)
        for fa in a.publish + a.subscribe:
            for r in reserved:
                if filters_overlap(fa, r):
                    problems.append(f"device {a.device!r}: filter {fa!r} reaches Terril's topics {r!r}")
        for b in spaces[i + 1:]:
            for fa in a.publish:
                clash = next((fb for fb in b.publish if filters_overlap(fa, fb)), None)
                if clash is not None:
                    problems.append(f"devices {a.device!r} and {b.device!r} share topics ({fa!r} and {clash!r})")
                    break
    return problems
