"""The shared report framework: labels, number formats, input hash, the four writers; and the
savings report assembled from simulated schools."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from analytics.reports.i18n import LABELS, add_labels, format_date, format_number, t
from analytics.reports.model import METADATA_KEYS, Figure, Report, Section, Table, report_metadata
from analytics.reports.render import format_cell, input_hash, write_report


def test_labels_and_formats() -> None:
    assert t("yes", "fr") == "oui" and t("page", "en", n=1, total=2) == "page 1/2"
    with pytest.raises(KeyError):
        t("no.such.key", "fr")
    with pytest.raises(ValueError):
        t("yes", "de")
    for key, texts in LABELS.items():
        assert set(texts) == {"fr", "en"}, key
    add_labels({"test.x": {"fr": "x", "en": "x"}})
    with pytest.raises(ValueError):
        add_labels({"test.x": {"fr": "y", "en": "y"}})
    assert format_number(12345.6, "fr", 1) == "12\u202f345,6"  # narrow no-break space: never wraps
    assert format_number(12345.6, "en", 1) == "12,345.6"
    assert format_number(-0.01, "en", 0) == "0"
    assert format_number(float("nan"), "fr") == "—"
    assert format_date(dt.date(2026, 11, 18), "fr") == "18/11/2026"
    assert format_date(dt.date(2026, 11, 18), "en") == "2026-11-18"
    assert format_date(dt.date(2026, 11, 1), "fr", long=True) == "1er novembre 2026"
    assert format_cell(2025, "fr") == "2025" and format_cell(12345, "fr") == "12\u202f345"
    assert format_cell(None, "en") == "—" and format_cell(True, "fr") == "oui"


def test_input_hash_is_stable_and_sensitive() -> None:
    a = np.arange(10.0)
    assert input_hash(a, "x") == input_hash(a.copy(), "x")
    assert input_hash(a, "x") != input_hash(a + 1e-9, "x")
    assert input_hash(b"ab", b"c") != input_hash(b"a", b"bc")
    assert input_hash(a.astype(np.float32)) != input_hash(a)
    assert len(input_hash()) == 64


def _report(lang: str = "fr") -> Report:
    def draw(ax) -> None:  # noqa: ANN001
        ax.plot([0, 1], [0, 1])

    rows = tuple((f"École {i}", 1000.5 * i, dt.date(2025, 1, 1) + dt.timedelta(days=i), None) for i in range(80))
    tb = Table("per_building", "Par bâtiment", ("Bâtiment", "Consommation [kWh]", "Date", "Note"), rows, notes="n")
    return Report("savings", lang, "Titre", "Sous-titre", Section("Résumé", ("p",), (), (Figure("f", "F", draw),)),
                  (Section("Détail", ("texte",), (tb, Table("per_building", "Bis", ("a",), ((1,),))), ()),),
                  report_metadata(data_range="2024..2025", input_sha256=input_hash(b"x"), model_parameters="{}",
                                  generated_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)))


def test_table_rows_must_match_columns() -> None:
    with pytest.raises(ValueError):
        Table("k", "t", ("a", "b"), ((1,),))


def test_writers(tmp_path: Path) -> None:
    r = _report()
    assert set(METADATA_KEYS) <= set(r.metadata)
    pdf = write_report(r, tmp_path / "r.pdf", "pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= 3
    xlsx = write_report(r, tmp_path / "r.xlsx", "xlsx")
    wb = openpyxl.load_workbook(xlsx)
    # one language at a time: sheet names and metadata labels follow the report's language
    assert wb.sheetnames == ["Sommaire", "Par bâtiment", "Par bâtiment 2", "Reproductibilité"]
    ws = wb["Par bâtiment"]
    assert ws["A1"].value == "Bâtiment" and ws["A1"].font.bold and ws.freeze_panes == "A2"
    assert ws["B3"].value == pytest.approx(1000.5) and isinstance(ws["C2"].value, dt.datetime)
    assert wb["Reproductibilité"]["A2"].value == "Période des données"
    z = write_report(r, tmp_path / "r.zip", "csv")
    with zipfile.ZipFile(z) as f:
        names = f.namelist()
        text = f.read("per_building.csv").decode("utf-8")
    assert names == ["per_building.csv", "per_building_2.csv", "metadata.csv"]
    assert text.startswith("\ufeffBâtiment;Consommation [kWh]") and "1000,5" in text
    folder = write_report(_report("en"), tmp_path / "csvdir", "csv")
    assert "1000.5" in (folder / "per_building.csv").read_text(encoding="utf-8-sig")
    js = json.loads(write_report(r, tmp_path / "r.json", "json").read_text())
    # machine-readable: rows keyed by column key, labels apart
    tb = js["sections"][0]["tables"][0]
    assert tb["rows"][1][tb["columns"][2]["key"]] == "2025-01-02"
    assert js["metadata"]["input_sha256"] == input_hash(b"x")
    with pytest.raises(ValueError):
        write_report(r, tmp_path / "r.doc", "doc")


def test_pdf_layout_is_compact_and_keeps_every_row() -> None:
    """Sections follow on (no near-empty page), half-width charts share a row, a long parameter table is
    drawn as two pairs of columns with every row, and ``pdf_first`` tables come first (PDF only)."""
    from analytics.reports.render import _Pdf

    def draw(ax) -> None:  # noqa: ANN001
        ax.plot([0, 1], [0, 1])

    params = Table("model_x", "Modèle", ("Paramètre", "Valeur"),
                   tuple((f"Effet {i} [kWh/j]", 0.5 * i) for i in range(14)))
    late = Table("late", "Tableau B", ("a",), ((1,),))
    first = Table("first", "Tableau A", ("a",), ((2,),))
    sections = tuple(Section(f"Bâtiment {k}", ("texte",), (params,),
                             (Figure("w", "W", draw, height_in=1.0), Figure("c", "C", draw, height_in=1.0, half=True),
                              Figure("s", "S", draw, height_in=1.0, half=True))) for k in range(6))
    summary = Section("Résumé", ("p",), (late, first), (), pdf_first=("first",))
    rep = Report("savings", "fr", "Titre", "Sous-titre", summary, sections,
                 report_metadata(data_range="x", input_sha256=input_hash(b"x"), model_parameters="{}",
                                 generated_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)))
    pdf = _Pdf(rep)
    pages = pdf.build()
    texts = [tx.get_text() for fig in pages for tx in fig.texts]
    assert texts.index("Tableau A") < texts.index("Tableau B")
    assert [tb.key for tb in rep.summary.tables] == ["late", "first"]  # the model (XLSX, JSON) keeps its order
    # six buildings of about half a page each follow on from the summary's page: four pages and the
    # metadata (a page per building would make eight)
    assert len(pages) <= 6, len(pages)
    # the two half charts of a building sit side by side: same bottom, different left
    axes = [ax for fig in pages for ax in fig.axes]
    pos = [ax.get_position() for ax in axes[:3]]
    assert pos[1].y0 == pytest.approx(pos[2].y0) and pos[1].x0 < pos[2].x0 and pos[1].x1 < pos[2].x0
    # 14 parameters in two pairs of columns, 7 lines, every parameter drawn once
    folded = pdf._folded(params)
    assert len(folded.columns) == 4 and len(folded.rows) == 7
    assert [r[0] for r in folded.rows] + [r[2] for r in folded.rows] == [r[0] for r in params.rows]
    assert sum(t.startswith("Effet ") for t in texts) == 6 * 14


def test_a_column_sized_to_its_widest_word_never_cuts_it() -> None:
    """A date column is as wide as its date plus padding; the width comes back from scaling a
    hair smaller (5.763671874999999 for 5.763671875 em) and used to cut "19/08/2024" into
    "19/08/202" and "4" in the savings PDF's measures table."""
    from analytics.reports.render import text_em, wrap_em

    cell = format_cell(dt.date(2024, 8, 19), "fr")
    width = text_em(cell)
    assert wrap_em(cell, width * (1 - 1e-15)) == [cell]
    assert wrap_em(cell, width * 0.8) != [cell]  # a column really too narrow still wraps
