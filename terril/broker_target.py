"""Which broker a device command changes: the broker files written by ``terril broker config``
in a folder, or the local stack's Mosquitto (found through the stack's saved state).

Used by ``terril devices add|rotate|revoke|list`` and the portal's device page.
"""

from __future__ import annotations

from pathlib import Path

from terril.errors import StackError
from terril.security.provisioning import BrokerTarget, files_target, local_target
from terril.settings import load_settings
from terril.stack import _write_state, read_state


def broker_target(broker_dir: Path | None, registry: Path | None, data_dir: Path | None) -> BrokerTarget:
    """Broker files in ``broker_dir`` (from `terril broker config`), else the local stack's broker.

    Raises StackError when no broker folder is given and no local stack was set up in the data folder.
    """
    if broker_dir is not None:
        return files_target(broker_dir, registry)
    settings = load_settings(None, data_dir=data_dir)
    state = read_state(settings.data_dir)
    if state is None:
        raise StackError(f"no local stack in {settings.data_dir}",
                         hint="start it with `terril stack up`, or pass --broker-dir DIR")
    return local_target(state, registry)


def remember_registry(target: BrokerTarget, data_dir: Path | None) -> None:
    """The local stack regenerates its ACL from this registry at the next `stack up`."""
    if target.pid is None:
        return
    state = read_state(load_settings(None, data_dir=data_dir).data_dir)
    if state is not None and state.registry != str(target.registry_path.resolve()):
        state.registry = str(target.registry_path.resolve())
        _write_state(state)
