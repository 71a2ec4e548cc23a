"""The exception tree of Terril, in one place.

Every error a user may see derives from :class:`TerrilError`; the CLI turns it
into one clear message and a non-zero exit code, never a traceback. Library
errors (httpx, paho, pydantic, OS) are translated at exactly one boundary each,
with ``raise ... from err``.
"""

from __future__ import annotations


class TerrilError(Exception):
    """Base of every error Terril raises on purpose.

    ``hint`` says what the user should do next. ``lang`` is the language its message was
    written in (``"fr"`` or ``"en"``; ``None`` for English), so that the CLI's prefixes
    (« erreur », « conseil ») match it: one language at a time.
    """

    exit_code = 1
    lang: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def said_in(self, lang: str) -> "TerrilError":
        """This error, marked as written in ``lang`` (its prefixes follow); for ``raise err.said_in(lang)``."""
        self.lang = lang
        return self

    def __str__(self) -> str:
        return self.message


class ConfigError(TerrilError):
    """A setting, a config file or a registry is invalid; start-up stops."""

    exit_code = 2


class RegistryError(ConfigError):
    """The registry file is invalid. ``problems`` lists every error found."""

    def __init__(self, message: str, problems: list["RegistryProblem"] | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []


class IdentifierError(TerrilError):
    """An identifier (site, meter, device, topic segment) does not match the strict pattern."""

    exit_code = 2


class StackError(TerrilError):
    """The local stack (Mosquitto, InfluxDB child processes) cannot start, stop or be reached."""


class MissingBinaryError(StackError):
    """A program from a Debian package is not installed."""


class InfluxError(TerrilError):
    """InfluxDB refused a request or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "", hint: str | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.body = body
        self.retry_after_s = retry_after_s


class InfluxUnavailableError(InfluxError):
    """Network failure, 5xx or 429: worth retrying later."""


class InfluxRejectedError(InfluxError):
    """400/422: the data itself was refused (bad line, type conflict, retention)."""


class InfluxTooLargeError(InfluxError):
    """413: the batch must be split."""


class InfluxAuthError(InfluxError):
    """401/403 or missing database: a configuration error, retrying will not help."""

    exit_code = 2


class MqttError(TerrilError):
    """The MQTT broker refused the connection or could not be reached."""


class DecodeError(TerrilError):
    """A payload cannot be decoded. ``reason`` is a stable code used for quarantine."""

    exit_code = 3

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class LineProtocolError(TerrilError, ValueError):
    """A point cannot be written as line protocol (no finite field, bad key)."""


class RetryLater(TerrilError):
    """InfluxDB is unavailable for now; ``delay_s`` is the suggested wait (the collector's writer)."""

    def __init__(self, message: str, delay_s: float) -> None:
        super().__init__(message)
        self.delay_s = delay_s


class SpoolError(TerrilError):
    """The spool folder cannot be used (locked by another process, unreadable)."""


class SpoolFull(TerrilError):
    """Appending would take the spool over its size bound; nothing was written."""


class ProvisioningError(TerrilError):
    """A device cannot be added, rotated or revoked."""

    exit_code = 2


class AlertNotFoundError(TerrilError, LookupError):
    """No alert has this id (acknowledging or resolving an alert that does not exist)."""

    exit_code = 2

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"no alert with id {alert_id!r}", hint="see `terril alerts list`")
        self.alert_id = alert_id


class RegistryProblem:
    """One problem found in a registry: where (file, line, location) and why.

    ``location`` names the entry and field (``devices[2] (id 'x').channels[0].meter``); ``line`` is the
    1-based line of that field in the file (of its table when the field is missing), None when unknown.
    """

    __slots__ = ("file", "location", "reason", "line")

    def __init__(self, file: str, location: str, reason: str, line: int | None = None) -> None:
        self.file = file
        self.location = location
        self.reason = reason
        self.line = line

    @property
    def field(self) -> str:
        """The field the problem is about (last part of the location)."""
        return self.location.rsplit(".", 1)[-1].split("[", 1)[0]

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.location}: {self.reason}"

    def __repr__(self) -> str:
        return f"RegistryProblem({self.file!r}, {self.location!r}, {self.reason!r}, line={self.line!r})"


class ImportFileError(TerrilError, ValueError):
    """A file given to ``terril import`` cannot be read as a whole (unknown format, wrong
    delimiter, missing column, unknown unit, several stations…). ``reason`` is a stable code and
    ``params`` fill the message in the user's language (:mod:`analytics.imports.messages`)."""

    exit_code = 1

    def __init__(self, reason: str, message: str, *, hint: str | None = None, **params: object) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.params = params


class TimeError(TerrilError, ValueError):
    """A time stamp of an imported file cannot be read; ``reason`` is ``bad_time`` or
    ``nonexistent_local_time`` (:mod:`analytics.imports`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
