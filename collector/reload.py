"""Live registry reload: watch the registry file, validate it, swap it into the running collector.

:class:`RegistryWatcher` polls the file every ``interval_s`` (its size and mtime, then a
SHA-256 of its bytes) and reloads it once it has stopped changing for one poll (debounced,
so an editor's half-written save is not read). ``request()`` (the collector's SIGHUP handler)
wakes the watcher, which reloads at once whatever the stat says. A file that does not validate is refused:
each of its problems is logged, and the previous registry stays in force.

The swap itself is one reference assignment (:meth:`collector.service.Collector.use_registry`):
each message is decoded by exactly one pipeline, old or new, and its acknowledgement is not
touched, so no message in flight is lost or written twice.

When the devices change (id, site, format or topic), ``on_devices_changed`` runs with the new
registry: for the local stack, :func:`local_broker_sync` regenerates the broker's ACL (and
prunes the accounts of removed devices) and reloads Mosquitto with SIGHUP.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from terril.errors import TerrilError
from terril.registry import Registry, load_registry

log = logging.getLogger("terril.collector.reload")


def device_signature(registry: Registry) -> frozenset[tuple[str, str, str, str]]:
    """What the broker's accounts and ACL depend on: each device's id, site, format and topic."""
    return frozenset((d.id, d.site, d.format, d.topic or "") for d in registry.devices)


class RegistryWatcher:
    """Poll a registry file and hand every valid new version to ``apply``.

    Parameters
    ----------
    path
        The registry file.
    current
        The registry in force (loaded from ``path`` at start).
    apply
        Called with a new valid registry; raises :class:`TerrilError` to refuse it.
    on_devices_changed
        Called after ``apply`` when the devices' signature changed (broker sync).
    interval_s
        Poll period [s].
    """

    def __init__(self, path: str | os.PathLike[str], current: Registry, apply: Callable[[Registry], None], *,
                 on_devices_changed: Callable[[Registry], None] | None = None, interval_s: float = 1.0) -> None:
        self.path = Path(path)
        self.apply = apply
        self.on_devices_changed = on_devices_changed
        self.interval_s = interval_s
        self.current = current
        self.reloads = 0  # registries swapped in
        self.refused = 0  # files refused (their errors logged)
        self.last_errors: list[str] = []
        self._stat = self._read_stat()
        self._pending_stat: tuple[int, int] | None = None
        self._hash = self._read_hash()
        self._requested = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read_stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _read_hash(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def request(self) -> None:
        """Reload now (SIGHUP): the watcher thread wakes up and reloads. Safe from a signal handler."""
        self._requested.set()
        self._wake.set()

    def poll(self) -> bool:
        """One poll; True when a new registry was swapped in."""
        forced = self._requested.is_set()
        stat = self._read_stat()
        if not forced:
            if stat == self._stat:
                self._pending_stat = None
                return False
            if stat != self._pending_stat:  # still changing (or just changed): wait one more poll
                self._pending_stat = stat
                return False
        self._requested.clear()
        self._pending_stat = None
        self._stat = stat
        digest = self._read_hash()
        if digest == self._hash and not forced:
            return False
        return self._load(digest)

    def _load(self, digest: str | None) -> bool:
        try:
            registry = load_registry(self.path)
            self.apply(registry)
        except TerrilError as err:
            self.refused += 1
            self._hash = digest  # the same bad bytes are not reported again until they change
            problems = getattr(err, "problems", None) or []
            self.last_errors = [f"{p.location}: {p.reason}" for p in problems] or [err.message]
            log.error("registry %s refused, the previous registry stays in force: %s", self.path, err.message)
            for line in self.last_errors[:50]:
                log.error("  %s", line)
            return False
        old, self.current, self._hash = self.current, registry, digest
        self.reloads += 1
        self.last_errors = []
        log.warning("registry %s reloaded: %d sites, %d meters, %d devices", self.path, len(registry.sites),
                    len(registry.meters), len(registry.devices))
        if self.on_devices_changed is not None and device_signature(old) != device_signature(registry):
            try:
                self.on_devices_changed(registry)
            except (TerrilError, OSError) as err:
                log.error("devices changed but the broker could not be updated: %s", err)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.poll()
            except Exception:  # never a dead watcher
                log.exception("unexpected error watching the registry %s", self.path)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="terril-registry-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)


def local_broker_sync(data_dir: str | os.PathLike[str], registry_path: str | os.PathLike[str]
                      ) -> Callable[[Registry], None]:
    """A hook regenerating the local stack's broker ACL and accounts from a registry, then reloading Mosquitto.

    The stack state is read at each call, so a Mosquitto restarted since (new pid) is the one reloaded.
    Devices need an account of their own (``terril devices add|rotate``): accounts are never invented here,
    only those of removed devices are pruned.
    """
    from terril.security.broker import passwd_lock
    from terril.security.provisioning import ProvisioningError, apply_registry, local_target
    from terril.security.topics import check_topics
    from terril.stack import read_state

    def sync(registry: Registry) -> None:
        state = read_state(data_dir)
        if state is None or state.mosquitto_pid is None:
            log.warning("devices changed; no local stack in %s: reload your broker's ACL yourself "
                        "(`terril broker config`)", data_dir)
            return
        target = local_target(state, registry_path)
        with passwd_lock(target.passwd):
            # the file as it is now, under the broker files' lock: a `devices add` that ran since this
            # registry was loaded is not undone (its account is neither pruned nor left out of the ACL)
            try:
                registry = load_registry(registry_path)
            except TerrilError:
                pass  # refused by the watcher in turn; regenerate from the registry in force
            problems = check_topics(registry)
            if problems:
                raise ProvisioningError(f"broker ACL not regenerated: {problems[0]}")
            reloaded = apply_registry(target, registry)
        log.warning("devices changed: broker ACL regenerated%s", ", Mosquitto reloaded" if reloaded else "")

    return sync

