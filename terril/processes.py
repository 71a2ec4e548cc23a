"""The server programs Terril runs, and the processes that run them: where a program is installed,
and whether a PID is the server started with a given config file.

Used by the local stack (:mod:`terril.stack`) and by the broker tools
(:mod:`terril.security.broker`: ``mosquitto_passwd``, reloading Mosquitto), which must not
import each other.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from terril.errors import MissingBinaryError

#: program -> Debian package that provides it
BINARIES = {
    "mosquitto": "mosquitto",
    "mosquitto_passwd": "mosquitto",
    "influxd": "influxdb",
}
_SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def find_binary(name: str) -> str:
    """Absolute path of ``name``; raises MissingBinaryError naming the Debian package to install."""
    found = shutil.which(name)
    if found is None:
        for d in _SEARCH_DIRS:
            candidate = Path(d) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                found = str(candidate)
                break
    if found is None:
        package = BINARIES.get(name, name)
        raise MissingBinaryError(f"{name} not found: install the Debian package '{package}' "
                                 f"(apt-get install {package}), or run `make setup`")
    return found


#: config file name -> the program that runs with it (``-c``/``-config`` names the file)
_PROGRAM_OF_CONFIG = {"mosquitto.conf": "mosquitto", "influxdb.conf": "influxd"}


def pid_is_ours(pid: int | None, marker: Path) -> bool:
    """True when ``pid`` is alive, runs our server program and has our config file as an argument."""
    if not pid:
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        if stat.read_text().split(") ", 1)[1].startswith("Z"):
            return False  # zombie
    except (OSError, IndexError):
        pass
    program = _PROGRAM_OF_CONFIG.get(marker.name)
    if program is not None and (not argv or os.path.basename(argv[0].decode(errors="replace")) != program):
        return False  # an editor or a grep that names the file is not the server
    return str(marker).encode() in argv[1:]
