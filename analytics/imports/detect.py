"""Recognise an export's format from its content (``terril import --kind auto``). Pure.

The order matters: binary containers first (gzip, xlsx), then XML and JSON by their keys, then
CSV by their preamble or header (Enedis "Mes données", Météo-France, SYNOP), else the generic
``time;value`` layout.
"""

from __future__ import annotations

from terril.errors import ImportFileError

from .core import decode_text, decompress

#: Formats recognised by :func:`detect_format` (each is also a ``--kind``).
FORMATS: tuple[str, ...] = ("enedis_md_load_curve", "enedis_md_daily", "enedis_md_index", "enedis_dc_json",
                            "enedis_sge_xml", "grdf_xlsx", "grdf_json", "grdf_adict", "meteofrance_daily",
                            "meteofrance_hourly", "meteofrance_synop")


def detect_format(data: bytes) -> str:
    """The format of a file's content: one of :data:`FORMATS`, or a layout — ``daily_index``
    (a column named ``Index…``), ``invoice`` (period end or amount columns), else ``generic``."""
    from . import enedis, grdf

    data = decompress(data)
    if not data.strip():
        raise ImportFileError("empty_file", "the file is empty")
    if data[:4] == b"PK\x03\x04":
        if grdf.is_grdf_xlsx(data):
            return "grdf_xlsx"
        raise ImportFileError("unknown_format", "an Excel file that is not a GRDF export: save it as CSV "
                              "(time;value) and import that", what="xlsx")
    text = decode_text(data)
    head = text.lstrip()[:4000]
    low = head.lower()
    if head.startswith("<"):
        if "consultermesures" in low or "seriesmesuresdatees" in low:
            return "enedis_sge_xml"
        raise ImportFileError("unknown_format", "an XML file that is not an SGE ConsulterMesures answer", what="xml")
    if head.startswith(("{", "[")):
        if '"meter_reading"' in low:
            return "enedis_dc_json"
        if '"releves"' in low:
            return "grdf_json"
        if '"volume_brut"' in low or '"consommation"' in low:
            return "grdf_adict"
        raise ImportFileError("unknown_format", "a JSON file that is neither Enedis Data Connect "
                              "(meter_reading) nor GRDF (releves, consommation)", what="json")
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
    cells = [c.strip() for c in first.replace(",", ";").split(";")]
    if first.startswith("identifiant prm") or any(
            ln.strip().lower().startswith(("horodate;", "horodate,")) for ln in text.splitlines()[:8]):
        return enedis.md_subformat(data)
    if "numer_sta" in cells:
        return "meteofrance_synop"
    if ("num_poste" in cells or "poste" in cells) and any(c in cells for c in ("aaaammjj", "aaaammjjhh", "date")):
        line2 = next((ln for ln in text.splitlines()[1:] if ln.strip()), "")
        date_col = next(i for i, c in enumerate(cells) if c in ("aaaammjj", "aaaammjjhh", "date"))
        parts = line2.split(";")
        value = parts[date_col].strip() if date_col < len(parts) else ""
        return "meteofrance_hourly" if len(value) >= 10 or "aaaammjjhh" in cells else "meteofrance_daily"
    header = [c.strip().lower() for c in first.replace("\t", ";").replace(",", ";").split(";")]
    if any(c.startswith("index") for c in header):
        return "daily_index"  # cumulative: never summed as consumption
    if any(c in ("period_end", "date de fin", "fin", "cost_eur", "montant", "montant_eur") for c in header):
        return "invoice"
    return "generic"


__all__ = ["FORMATS", "detect_format"]
