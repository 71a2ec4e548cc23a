"""A typed InfluxQL target for Grafana's InfluxDB datasource (the SDK has no InfluxQL query builder).

The provisioned datasource has a fixed uid (:data:`DATASOURCE_UID`); every panel,
variable, annotation and alert rule refers to it by that uid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.common import DataSourceRef

#: uid of the InfluxDB datasource provisioned in dashboards/provisioning/datasources/
DATASOURCE_UID = "terril-influxdb"
DATASOURCE_TYPE = "influxdb"

ResultFormat = Literal["time_series", "table"]


def datasource_ref() -> DataSourceRef:
    """The reference to the provisioned InfluxDB datasource."""
    return DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


def datasource_json() -> dict[str, str]:
    """The same reference as JSON (for alert rules and annotations)."""
    return {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}


@dataclass(frozen=True)
class InfluxQLTarget(cogvariants.Dataquery):
    """One raw InfluxQL query of a panel (Grafana's InfluxDB datasource, InfluxQL mode).

    ``alias`` names the series in the legend (``$tag_site`` patterns allowed);
    ``text_column``/``tags_column`` are only for annotation queries.
    """

    ref_id: str
    query: str
    result_format: ResultFormat = "time_series"
    alias: str | None = None
    hide: bool = False
    text_column: str | None = None
    tags_column: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "datasource": datasource_json(),
            "query": self.query,
            "rawQuery": True,
            "refId": self.ref_id,
            "resultFormat": self.result_format,
        }
        if self.alias:
            out["alias"] = self.alias
        if self.hide:
            out["hide"] = True
        if self.text_column is not None:
            out["fromAnnotations"] = True
            out["textColumn"] = self.text_column
            out["tagsColumn"] = self.tags_column or ""
        return out


class InfluxQL(cogbuilder.Builder[InfluxQLTarget]):
    """SDK builder wrapper so that ``panel.with_target(InfluxQL(...))`` type-checks."""

    def __init__(self, query: str, *, ref_id: str = "A", result_format: ResultFormat = "time_series",
                 alias: str | None = None, text_column: str | None = None, tags_column: str | None = None) -> None:
        self._target = InfluxQLTarget(ref_id, query, result_format, alias, False, text_column, tags_column)

    def build(self) -> InfluxQLTarget:
        return self._target
