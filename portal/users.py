"""Portal accounts: a JSON file in the data folder, argon2 password hashes, four ordered roles.

``lecteur`` < ``technicien`` < ``gestionnaire`` < ``admin``: a role can do everything the
roles before it can. Passwords are never stored or logged in clear.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from terril.errors import ConfigError

ROLES: tuple[str, ...] = ("lecteur", "technicien", "gestionnaire", "admin")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD_LEN = 10
_hasher = PasswordHasher()
# verifying an unknown user costs as much as a known one (no user enumeration by timing)
_DUMMY_HASH = _hasher.hash("terril-dummy-password")


def role_at_least(role: str, needed: str) -> bool:
    """Whether ``role`` includes the rights of ``needed``."""
    return ROLES.index(role) >= ROLES.index(needed)


def validate_username(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"bad user name {name!r}: 1-64 characters a-z, 0-9, '.', '_', '-', starting with a letter or digit")
    return name


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LEN:
        raise ConfigError(f"password too short: at least {MIN_PASSWORD_LEN} characters")
    return password


@dataclass(frozen=True)
class User:
    """One account (the hash, never the password)."""

    name: str
    role: str
    password_hash: str
    display_name: str = ""


class UserStore:
    """The accounts file ``<data_dir>/portal/users.json`` (mode 0600), written atomically."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / "portal" / "users.json"
        self._lock = threading.Lock()

    def _read(self) -> dict[str, User]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            raise ConfigError(f"{self.path}: cannot read the portal accounts: {err}") from err
        return {u["name"]: User(**u) for u in raw.get("users", [])}

    def _write(self, users: dict[str, User]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".users-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"users": [asdict(u) for u in sorted(users.values(), key=lambda u: u.name)]}, f, indent=1)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def list(self) -> list[User]:
        return sorted(self._read().values(), key=lambda u: u.name)

    def get(self, name: str) -> User | None:
        return self._read().get(name)

    def add(self, name: str, role: str, password: str, display_name: str = "") -> User:
        validate_username(name)
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        validate_password(password)
        with self._lock:
            users = self._read()
            if name in users:
                raise ConfigError(f"user {name!r} already exists", hint="use `terril users passwd`")
            users[name] = User(name, role, _hasher.hash(password), display_name)
            self._write(users)
            return users[name]

    def set_password(self, name: str, password: str) -> None:
        validate_password(password)
        with self._lock:
            users = self._read()
            if name not in users:
                raise ConfigError(f"no user {name!r}", hint="see `terril users list`")
            u = users[name]
            users[name] = User(u.name, u.role, _hasher.hash(password), u.display_name)
            self._write(users)

    def remove(self, name: str) -> None:
        with self._lock:
            users = self._read()
            if users.pop(name, None) is None:
                raise ConfigError(f"no user {name!r}", hint="see `terril users list`")
            self._write(users)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password matches, else None (same cost either way)."""
        user = self._read().get(name) if isinstance(name, str) else None
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return user
