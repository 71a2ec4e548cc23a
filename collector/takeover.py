"""Takeover of an offline peer's session, for collectors sharing a ``$share/<group>/`` subscription.

Mosquitto keeps routing a share to a member's session while the member is offline. A member
that sees a peer of its group go offline (the peer's will, on
``terril/_collector/<id>/status``) and is the first live member by id connects with the
peer's client id, stores what was waiting in that session, unsubscribes once it is quiet,
lets the in-flight messages arrive, and retires the session (session expiry 0).

:class:`Takeovers` is driven by its owner: :meth:`Takeovers.on_peer_status` from the primary
session's network thread, :meth:`Takeovers.manage` from the housekeeping thread. How to open
a session, which filters to unsubscribe and how to publish a status are passed in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from paho.mqtt.properties import Properties

from collector.session import Session
from collector.stats import CollectorStats
from terril.settings import MqttSettings

log = logging.getLogger("terril.collector")

STATUS_PREFIX = "terril/_collector/"
#: a taken-over session is retired once it was quiet this long [s]
TAKEOVER_QUIET_S = 1.0


def status_topic(client_id: str) -> str:
    return f"{STATUS_PREFIX}{client_id}/status"


class Takeovers:
    """The peers' statuses seen, and the peers' sessions this collector holds."""

    def __init__(self, client_id: str, mqtt_settings: MqttSettings, stats: CollectorStats, *,
                 open_session: Callable[[str], Session], filters: Callable[[], list[str]],
                 publish_status: Callable[[str, bytes], None], halt: threading.Event) -> None:
        self.client_id = client_id
        self.mqtt_settings = mqtt_settings
        self.stats = stats
        self._open_session = open_session
        self._filters = filters  # the (shared) filters a taken-over session is unsubscribed from
        self._publish_status = publish_status
        self._halt = halt
        self._lock = threading.Lock()
        self._peers: dict[str, str] = {}
        self._sessions: dict[str, Session] = {}
        self._queue: list[str] = []

    def on_peer_status(self, topic: str, payload: bytes, properties: Properties | None) -> None:
        parts = topic.split("/")
        if len(parts) != 4 or parts[3] != "status" or not self.mqtt_settings.share_group:
            return
        peer = parts[2]
        group = dict(getattr(properties, "UserProperty", None) or []).get("share_group")
        if peer == self.client_id or group != self.mqtt_settings.share_group or peer in self._sessions:
            return
        state = payload.decode("utf-8", "replace")
        with self._lock:
            self._peers[peer] = state
            if state == "offline" and self.mqtt_settings.takeover:
                online = sorted([p for p, s in self._peers.items() if s == "online"] + [self.client_id])
                if online[0] == self.client_id:  # the first live member by id takes over
                    self._queue.append(peer)

    def manage(self, now: float) -> None:
        """Open queued takeovers; retire drained sessions; forget finished ones (housekeeping thread)."""
        with self._lock:
            queue, self._queue = self._queue, []
        for peer in queue:
            if peer in self._sessions or self._halt.is_set():
                continue
            session = self._open_session(peer)
            try:
                session.connect()
            except OSError as err:
                log.warning("could not take over the session of %s: %s", peer, err)
                continue
            self._sessions[peer] = session
            self.stats.takeovers += 1
        for peer, session in list(self._sessions.items()):
            if session.finished.is_set():
                session.client.loop_stop()
                del self._sessions[peer]
                continue
            if not session.connected.is_set():
                continue
            quiet = now - max(session.last_message, session.connected_since) > TAKEOVER_QUIET_S
            if not session.session_present:
                self._retire(peer, session)
            elif quiet and session.unacked == 0:
                if not session.unsubscribed:  # no new messages for it, then let the in-flight ones arrive
                    session.client.unsubscribe(self._filters())
                    session.unsubscribed = True
                    session.last_message = now
                else:
                    self._retire(peer, session)

    def _retire(self, peer: str, session: Session) -> None:
        log.warning("session of offline peer %s drained; retiring it", peer)
        session.retire()
        session.client.loop_stop()
        self._publish_status(peer, b"")  # clear its retained status
        del self._sessions[peer]
        with self._lock:
            self._peers.pop(peer, None)

    def unacked(self) -> int:
        return sum(s.unacked for s in list(self._sessions.values()))

    def close_all(self) -> None:
        """Close the sessions held; each stays a member of the group: say it is offline, so that a peer takes it
        over."""
        for peer, session in list(self._sessions.items()):
            session.close()
            self._publish_status(peer, b"offline")
        self._sessions.clear()
