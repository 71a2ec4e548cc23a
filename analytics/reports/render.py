"""Write a :class:`~analytics.reports.model.Report` as PDF, XLSX, CSV or JSON; hash the inputs.

Formats
-------
pdf
    A4 through matplotlib's ``PdfPages``: a title band and the summary on page 1,
    then the sections one after the other (a heading kept with its first block; a section of
    wide tables on a landscape page), each flowing over as many pages as it needs
    (paragraphs, then figures — two half-width figures side by side —, then tables; long
    tables continue on the next page with their header repeated, a long two-column table is
    drawn as two pairs of columns), and a last page with the reproducibility metadata. Every page has a footer: report kind,
    generation time, the first 12 hex digits of the input hash, page n/N. Tables fit their page:
    column widths come from measured text widths, numbers never wrap, headers wrap at word
    boundaries only, and a table too wide for portrait (even at 6 pt) goes on a landscape page.
xlsx
    openpyxl: a ``contents`` sheet (title, subtitle, summary paragraphs, one line per table
    with its sheet and notes), one sheet per table (header row bold and frozen, autofilter,
    numbers as numbers, dates as dates, column widths set), and a ``metadata`` sheet.
csv
    One CSV per table plus ``metadata.csv``, in a ZIP archive when ``path`` ends in
    ``.zip``, else in a folder named ``path``. UTF-8 with a BOM (so that Excel opens accents
    correctly). French reports use ``;`` as separator and a decimal comma (what Excel in a
    French locale expects); English reports use ``,`` and a decimal point. Dates are ISO.
json
    Everything machine-readable (schema: ``analytics/reports/schemas/savings.schema.json``,
    docs/savings.md § JSON): ``data`` holds the figures under stable snake_case keys with
    numbers as numbers and codes rather than labels; tables are lists of rows keyed by
    column key, their display labels apart (``columns[].label``); NaN and "not computed" are
    null; dates ISO.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import textwrap
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from analytics.reports.i18n import format_date, format_number, t  # noqa: E402
from analytics.reports.model import Figure, Report, Section, Table  # noqa: E402

FORMATS: tuple[str, ...] = ("pdf", "xlsx", "csv", "json")

#: Colours shared by every report's charts.
PALETTE: dict[str, str] = {
    "primary": "#1f4e79",   # headings, baseline
    "accent": "#2e8b57",    # savings
    "actual": "#e07b39",    # actual consumption
    "warn": "#c0392b",
    "grey": "#7f8c8d",
    "light": "#e8eef5",
    "band": "#a9d5b9",
}

# A4 portrait, inches
PAGE_W, PAGE_H = 8.27, 11.69
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 0.7, 0.7, 0.75, 0.85
CONTENT_W = PAGE_W - MARGIN_L - MARGIN_R
BODY_PT = 9.5
LINE_IN = 0.19  # body line height
ROW_IN = 0.21   # table row height per text line
CHAR_IN = 0.068  # average body character width at BODY_PT (DejaVu Sans)


# ---------------------------------------------------------------------------------------
# input hash


def _hash_item(h: "hashlib._Hash", item: object) -> None:
    if isinstance(item, (bytes, bytearray, memoryview)):
        b = bytes(item)
        h.update(b"B%d:" % len(b))
        h.update(b)
    elif isinstance(item, str):
        b = item.encode("utf-8")
        h.update(b"S%d:" % len(b))
        h.update(b)
    elif isinstance(item, np.ndarray) or isinstance(item, (list, tuple)):
        a = np.ascontiguousarray(np.asarray(item))
        if a.dtype == object:
            for x in a.ravel().tolist():
                _hash_item(h, x)
            return
        head = f"A{a.dtype.str}{a.shape}:".encode()
        h.update(head)
        h.update(a.tobytes())
    elif item is None:
        h.update(b"N")
    else:
        b = repr(item).encode()
        h.update(b"R%d:" % len(b))
        h.update(b)


def input_hash(*arrays_or_bytes: object) -> str:
    """SHA-256 (hex) of the inputs of a report, recorded in its metadata.

    Each item (numpy array or sequence → dtype, shape and raw bytes; bytes; str; other
    scalars by ``repr``) is framed by its type and length, so that different splits of the
    same bytes give different hashes. Same arrays in the same order → same hash.
    """
    h = hashlib.sha256()
    for item in arrays_or_bytes:
        _hash_item(h, item)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# cell formatting


def date_axis(ax, lang: str) -> None:  # noqa: ANN001
    """Dates on a chart's x axis, after its data are drawn: months (``11/26``) over a long span,
    days (``02/11``) over a short one, where month ticks would leave one label, or the same month
    label several times; matplotlib's default (``2026-11-01``) runs its labels into each other."""
    lo, hi = ax.get_xlim()
    if hi - lo > 120:  # days (matplotlib's date numbers)
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%y" if lang == "fr" else "%Y-%m"))
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m" if lang == "fr" else "%d %b"))


#: A table cell shows at most this many lines in the PDF; a longer text ends in « … » (the XLSX,
#: CSV and JSON exports keep it whole). It was 8, cut silently: the Décret tertiaire advice lost
#: « page Imports) » after « ou la ».
MAX_CELL_LINES = 12


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_CELL_LINES:
        return lines
    return [*lines[:MAX_CELL_LINES - 1], lines[MAX_CELL_LINES - 1].rstrip(" ,;:") + " …"]


def format_cell(value: object, lang: str) -> str:
    """A table value as text for the PDF: numbers in the report's locale, dates, booleans."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("yes", lang) if value else t("no", lang)
    if isinstance(value, (int, np.integer)):
        if 1900 <= int(value) <= 2100:  # a year
            return str(int(value))
        return format_number(float(value), lang, 0)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "—"
        a = abs(v)
        decimals = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 0.1 or a == 0 else 3 if a >= 0.001 else 4
        return format_number(v, lang, decimals)
    if isinstance(value, dt.date):
        return format_date(value, lang)
    return str(value)


_FONTS: dict[bool, tuple[object, dict[str, float]]] = {}


def text_em(text: str, bold: bool = False) -> float:
    """Width of ``text`` in DejaVu Sans (the reports' font), in em (multiply by the size in
    points / 72 for inches): measured glyph advances, cached per character."""
    entry = _FONTS.get(bold)
    if entry is None:
        from matplotlib import font_manager, ft2font

        path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans",
                                                                 weight="bold" if bold else "normal"))
        font = ft2font.FT2Font(path)
        font.set_size(1, 72)  # 1 pt at 72 dpi: advances come out in em
        entry = _FONTS[bold] = (font, {})
    font, cache = entry
    total = 0.0
    for ch in text:
        w = cache.get(ch)
        if w is None:
            try:
                w = font.load_char(ord(ch)).linearHoriAdvance / 65536.0  # type: ignore[attr-defined]
            except (RuntimeError, ValueError):
                w = 0.6
            cache[ch] = w
        total += w
    return total


def wrap_em(text: str, width_em: float, *, bold: bool = False, whole_words: bool = False) -> list[str]:
    """Greedy word wrap of ``text`` to ``width_em`` (measured, see :func:`text_em`). Breaks only at
    ASCII spaces, so numbers with a narrow no-break space stay whole; a word wider than the line
    is cut only when ``whole_words`` is false."""
    width_em += 1e-6  # a column sized to its widest word must not cut it on a rounding error
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        if not word:
            continue
        trial = f"{cur} {word}" if cur else word
        if text_em(trial, bold) <= width_em or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
        while not whole_words and text_em(cur, bold) > width_em and len(cur) > 1:
            k = len(cur)
            while k > 1 and text_em(cur[:k], bold) > width_em:
                k -= 1
            lines.append(cur[:k])
            cur = cur[k:]
    if cur:
        lines.append(cur)
    return lines or [""]


def _plain(value: object) -> object:
    """A JSON-friendly value."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# ---------------------------------------------------------------------------------------
# PDF


class _Pdf:
    """A tiny flow layout on A4 pages: headings, paragraphs, figures and tables."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.lang = report.lang
        self.pages: list[plt.Figure] = []
        self.fig: plt.Figure | None = None
        self.y = 0.0  # current top of free space, inches from the bottom
        self.pw, self.ph, self.cw = PAGE_W, PAGE_H, CONTENT_W  # current page geometry (portrait or landscape)
        self._uncapped: set[int] = set()  # ids of folded tables (see _folded)
        self._keep: list[Table] = []

    # --- pages
    def new_page(self, landscape: bool | None = None) -> None:
        """Start a page; ``landscape=None`` keeps the current orientation."""
        if landscape is None:
            landscape = self.pw > self.ph
        self.pw, self.ph = (PAGE_H, PAGE_W) if landscape else (PAGE_W, PAGE_H)
        self.cw = self.pw - MARGIN_L - MARGIN_R
        self.fig = MplFigure(figsize=(self.pw, self.ph))
        FigureCanvasAgg(self.fig)  # not through pyplot: nothing retained between reports
        self.pages.append(self.fig)
        self.y = self.ph - MARGIN_T

    def ensure(self, height_in: float) -> None:
        if self.fig is None or self.y - height_in < MARGIN_B:
            self.new_page()

    def _fx(self, x_in: float) -> float:
        return x_in / self.pw

    def _fy(self, y_in: float) -> float:
        return y_in / self.ph

    def text(self, x_in: float, y_in: float, s: str, **kw: object) -> None:
        assert self.fig is not None
        self.fig.text(self._fx(x_in), self._fy(y_in), s, **kw)

    # --- elements
    def title_band(self, title: str, subtitle: str) -> None:
        self.new_page(landscape=False)
        assert self.fig is not None
        band_h = 1.35
        self.fig.patches.append(Rectangle((0, self._fy(self.ph - band_h)), 1, self._fy(band_h),
                                          transform=self.fig.transFigure, color=PALETTE["primary"], zorder=0))
        self.text(MARGIN_L, self.ph - 0.62, title, fontsize=20, color="white", weight="bold", va="center")
        for i, line in enumerate(textwrap.wrap(subtitle, 80)[:2]):
            self.text(MARGIN_L, self.ph - 1.0 - i * 0.22, line, fontsize=11, color="white", va="center")
        self.y = self.ph - band_h - 0.3

    def heading(self, s: str, level: int = 1) -> None:
        size = 14 if level == 1 else 11
        h = 0.45 if level == 1 else 0.34
        self.ensure(h + 3 * LINE_IN)
        self.text(MARGIN_L, self.y - 0.22, s, fontsize=size, weight="bold", color=PALETTE["primary"], va="center")
        if level == 1:
            assert self.fig is not None
            self.fig.add_artist(Line2D([self._fx(MARGIN_L), self._fx(self.pw - MARGIN_R)],
                                           [self._fy(self.y - 0.38)] * 2, color=PALETTE["primary"], lw=0.8))
        self.y -= h

    def paragraph(self, s: str, size: float = BODY_PT, color: str = "black") -> None:
        width_chars = int(self.cw / (CHAR_IN * size / BODY_PT))
        lines: list[str] = []
        for part in s.split("\n"):
            lines.extend(textwrap.wrap(part, width_chars) or [""])
        line_h = LINE_IN * size / BODY_PT
        for line in lines:
            self.ensure(line_h)
            self.text(MARGIN_L, self.y - line_h * 0.75, line, fontsize=size, color=color, va="baseline")
            self.y -= line_h
        self.y -= 0.08

    def figure(self, f: Figure, beside: Figure | None = None) -> None:
        """A chart across the page, or two half-width charts side by side (``beside``)."""
        row = [f] if beside is None else [f, beside]
        h = max(float(x.height_in) for x in row)
        self.ensure(h + 0.35)
        gap = 0.3
        w = self.cw if beside is None else (self.cw - gap) / 2
        for k, x in enumerate(row):
            x0 = MARGIN_L + k * (w + gap)
            title_size = 10 if beside is None else 8.5
            lines = wrap_em(x.title, w * 72 / title_size, bold=True)[:2] if beside is not None else [x.title]
            for i, line in enumerate(lines):
                self.text(x0, self.y - 0.15 - i * 0.16, line, fontsize=title_size, weight="bold", color="#333333",
                          va="center")
        self.y -= 0.3 if beside is None else 0.42
        assert self.fig is not None
        for k, x in enumerate(row):
            x0 = MARGIN_L + k * (w + gap)
            ax = self.fig.add_axes((self._fx(x0 + 0.55), self._fy(self.y - h + 0.35),
                                    self._fx(w - 0.65), self._fy(h - 0.45)))
            ax.tick_params(labelsize=8 if beside is None else 7)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            x.draw(ax)
            if beside is not None:  # half the width: half the date ticks, so that their labels never overlap
                if isinstance(ax.xaxis.get_major_locator(), mdates.DateLocator):
                    locator = mdates.AutoDateLocator(minticks=3, maxticks=5)
                    # matplotlib's steps leave no 3-5 ticks for spans of about 23-26 months or two days
                    # (it then warns and falls back): allow 8- and 12-month, and 8- and 24-hour steps
                    locator.intervald[mdates.MONTHLY] = [1, 2, 3, 4, 6, 8, 12]
                    locator.intervald[mdates.HOURLY] = [1, 2, 3, 4, 6, 8, 12, 24]
                    ax.xaxis.set_major_locator(locator)
                if ax.get_legend() is not None:
                    for txt in ax.get_legend().get_texts():
                        txt.set_fontsize(7)
            self._fit_inside(ax)
        self.y -= h + 0.1

    def _fit_inside(self, ax: plt.Axes) -> None:
        """Shrink the axes so that its tick labels stay inside the page margins."""
        assert self.fig is not None
        if not ax.axison:
            return
        renderer = self.fig.canvas.get_renderer()
        box = ax.get_tightbbox(renderer)
        if box is None:
            return
        dpi = self.fig.dpi
        left_in = box.x0 / dpi
        right_in = box.x1 / dpi
        pos = ax.get_position()
        x0, x1 = pos.x0 * self.pw, pos.x1 * self.pw
        shift = max(0.0, MARGIN_L - 0.05 - left_in)
        shrink = max(0.0, right_in - (self.pw - MARGIN_R + 0.05))
        if shift or shrink:
            new_x0 = x0 + shift
            new_w = max(1.0, x1 - shrink - new_x0)
            ax.set_position((new_x0 / self.pw, pos.y0, new_w / self.pw, pos.height))

    def _layout(self, tb: Table) -> tuple[list[str], list[list[str]], list[bool], float,
                                                         tuple[bool, float, list[float]]]:
        """Column layout of ``tb``: header, cell texts, numeric flags, padding [em] and the choice
        (landscape?, font size [pt], column widths [em]) — portrait when it fits, else landscape."""
        # a folded table's text columns may be as wide as their text (it is drawn smaller instead)
        max_text_em = 60.0 if id(tb) in self._uncapped else 16.0
        lang = self.lang
        header = list(tb.columns)
        body = [[format_cell(v, lang) for v in row] for row in tb.rows]
        nc = t("not_computed", lang)
        numeric = [all(isinstance(r[j], (int, float, np.integer, np.floating)) and not isinstance(r[j], bool)
                       or r[j] is None or r[j] == nc for r in tb.rows)
                   and any(r[j] is not None and r[j] != nc for r in tb.rows)
                   for j in range(len(header))] if tb.rows else [False] * len(header)

        # widths in em (font-size units, measured on DejaVu Sans): numbers never wrap, headers
        # wrap at word boundaries only, text cells wrap at words
        pad = 1.2  # em, both sides together
        mins, wants = [], []
        for j, hname in enumerate(header):
            hw = max((text_em(w, bold=True) for w in hname.split()), default=0.0)
            full = max((text_em(r[j]) for r in body), default=0.0)
            if numeric[j]:
                m = max(hw, full, 1.5) + pad
                mins.append(m)
                wants.append(m)
            else:
                word = max((text_em(w) for r in body for w in r[j].split()), default=0.0)
                mins.append(max(hw, min(word, 11.0), 2.0) + pad)
                wants.append(max(mins[-1], min(max(full, text_em(hname, bold=True)), max_text_em) + pad))
        choice = None
        sizes = [8.0 - 0.25 * i for i in range(9)]  # 8 .. 6 pt
        for land in (False, True):
            avail = (PAGE_H if land else PAGE_W) - MARGIN_L - MARGIN_R
            # the widest size at which every cell fits unwrapped down to 7 pt, else the widest at
            # which the minimum widths fit (text then wraps at words)
            for size in sizes:
                if size >= 7.0 and sum(wants) * size / 72.0 <= avail:
                    choice = (land, size, list(wants))
                    break
            # else, among the sizes down to 7 pt at which the minimum widths fit (text then wraps at
            # words), the one whose rows take the fewest lines (a row's height does not depend on its
            # font size), the widest on a tie; below 7 pt only when nothing larger fits
            fitting = []
            for size in sizes if choice is None else ():
                em_in = size / 72.0
                if sum(mins) * em_in <= avail:
                    extra = avail / em_in - sum(mins)
                    slack = [w - m for w, m in zip(wants, mins)]
                    k = min(1.0, extra / sum(slack)) if sum(slack) else 0.0
                    fitting.append((size, [m + k * sl for m, sl in zip(mins, slack)]))
            if fitting:
                readable = [f for f in fitting if f[0] >= 7.0] or fitting[:1]

                def n_lines(size_widths: tuple[float, list[float]]) -> int:
                    size, widths = size_widths
                    scale = avail / (sum(widths) * size / 72.0)
                    inner = [w * scale - pad for w in widths]
                    return sum(max([1] + [len(wrap_em(c, inner[j])[:MAX_CELL_LINES]) for j, c in enumerate(r) if not numeric[j]])
                               for r in body)

                size, widths = min(readable, key=lambda f: (n_lines(f), -f[0]))
                choice = (land, size, widths)
            if choice is not None:
                break
        if choice is None:  # too many columns even in landscape at 6 pt: squeeze (long words may break)
            choice = (True, 6.0, list(mins))
        return header, body, numeric, pad, choice

    def table(self, tb: Table) -> None:
        lang = self.lang
        if not tb.rows:  # an empty table is a sentence, not a lone header
            self.ensure(0.3 + 2 * LINE_IN)
            self.text(MARGIN_L, self.y - 0.15, tb.title, fontsize=10, weight="bold", color="#333333", va="center")
            self.y -= 0.3
            self.paragraph(t("table.empty", lang), size=8.5, color="#555555")
            self.y -= 0.12
            return
        landscape = self.pw > self.ph
        header, body, numeric, pad, choice = self._layout(tb)
        land, size, want = choice
        if land and not landscape:
            self.new_page(landscape=True)
        em_in = size / 72.0
        total = sum(want)
        scale = self.cw / (total * em_in) if total else 1.0
        widths = [w * em_in * scale for w in want]
        inner = [w / em_in - pad for w in widths]  # usable width of each column, em

        def wrap(s: str, width_em: float, bold: bool = False, whole_words: bool = False) -> list[str]:
            return wrap_em(s, width_em, bold=bold, whole_words=whole_words)

        head_lines = [wrap(hname, inner[j], bold=True, whole_words=True) for j, hname in enumerate(header)]
        row_lines = [[[c] if numeric[j] else _capped(wrap(c, inner[j])) for j, c in enumerate(r)] for r in body]
        head_h = max(len(x) for x in head_lines) * ROW_IN * 0.85 + 0.08
        row_hs = [max(len(x) for x in rl) * ROW_IN * 0.85 + 0.05 for rl in row_lines]

        def draw_header() -> None:
            assert self.fig is not None
            self.fig.patches.append(Rectangle((self._fx(MARGIN_L), self._fy(self.y - head_h)), self._fx(self.cw),
                                              self._fy(head_h), transform=self.fig.transFigure,
                                              color=PALETTE["primary"], zorder=0))
            x = MARGIN_L
            for j, lines in enumerate(head_lines):
                for k, line in enumerate(lines):
                    xx, ha = (x + widths[j] - 0.05, "right") if numeric[j] else (x + 0.05, "left")
                    self.text(xx, self.y - 0.06 - (k + 0.75) * ROW_IN * 0.85, line, fontsize=size, color="white",
                              weight="bold", ha=ha, va="baseline")
                x += widths[j]
            self.y -= head_h

        title_h = 0.3
        first_row_h = row_hs[0] if row_hs else 0.0
        self.ensure(title_h + head_h + first_row_h + 0.1)
        self.text(MARGIN_L, self.y - 0.15, tb.title, fontsize=10, weight="bold", color="#333333", va="center")
        self.y -= title_h
        draw_header()
        for i, (rl, rh) in enumerate(zip(row_lines, row_hs)):
            if self.y - rh < MARGIN_B:
                self.new_page()
                self.text(MARGIN_L, self.y - 0.15, tb.title + " (suite)" if lang == "fr" else tb.title + " (cont.)",
                          fontsize=9, color="#555555", va="center")
                self.y -= 0.28
                draw_header()
            assert self.fig is not None
            if i % 2 == 1:
                self.fig.patches.append(Rectangle((self._fx(MARGIN_L), self._fy(self.y - rh)), self._fx(self.cw),
                                                  self._fy(rh), transform=self.fig.transFigure,
                                                  color=PALETTE["light"], zorder=0))
            is_total = bool(body[i]) and body[i][0] in (t("total", "fr"), t("total", "en"))
            x = MARGIN_L
            for j, lines in enumerate(rl):
                for k, line in enumerate(lines):
                    xx, ha = (x + widths[j] - 0.05, "right") if numeric[j] else (x + 0.05, "left")
                    self.text(xx, self.y - 0.03 - (k + 0.75) * ROW_IN * 0.85, line, fontsize=size, ha=ha,
                              va="baseline", weight="bold" if is_total else "normal")
                x += widths[j]
            self.y -= rh
        self.fig.add_artist(Line2D([self._fx(MARGIN_L), self._fx(self.pw - MARGIN_R)], [self._fy(self.y)] * 2,
                                       color=PALETTE["primary"], lw=0.6))
        self.y -= 0.08
        if tb.notes:
            self.paragraph(tb.notes, size=7.5, color="#555555")
        self.y -= 0.12
        if land:  # what follows a table that needed landscape starts on a portrait page
            self.fig = None
            self.pw, self.ph, self.cw = PAGE_W, PAGE_H, CONTENT_W

    def _paragraph_height(self, s: str, size: float = BODY_PT) -> float:
        width_chars = int(self.cw / (CHAR_IN * size / BODY_PT))
        n = sum(len(textwrap.wrap(part, width_chars) or [""]) for part in s.split("\n"))
        return n * LINE_IN * size / BODY_PT + 0.08

    def section(self, s: Section, level: int = 1, heading: bool = True) -> None:
        if heading:
            # the heading stays with its paragraphs and the first chart (never alone at a page's foot)
            need = 0.45 + sum(self._paragraph_height(p) for p in s.paragraphs)
            if s.figures:
                need += float(s.figures[0].height_in) + 0.45
            self.ensure(min(need, self.ph - MARGIN_T - MARGIN_B))
            self.heading(s.title, level)
        for p in s.paragraphs:
            self.paragraph(p)
        figs = list(s.figures)
        while figs:
            f = figs.pop(0)
            if f.half and figs and figs[0].half:
                self.figure(f, figs.pop(0))
            else:
                self.figure(f)
        first = [tb for key in s.pdf_first for tb in s.tables if tb.key == key]
        for tb in first + [tb for tb in s.tables if tb.key not in s.pdf_first]:
            self.table(self._folded(tb))

    def _rows_height(self, tb: Table) -> tuple[bool, float]:
        """(needs landscape, total height of the rows [in]) of ``tb`` as :meth:`table` draws it."""
        _, body, numeric, pad, (land, size, widths) = self._layout(tb)
        em_in = size / 72.0
        avail = (PAGE_H if land else PAGE_W) - MARGIN_L - MARGIN_R
        scale = avail / (sum(widths) * em_in) if sum(widths) else 1.0
        inner = [w * scale - pad for w in widths]
        lines = [max([1] + [len(wrap_em(c, inner[j])[:MAX_CELL_LINES]) for j, c in enumerate(r) if not numeric[j]]) for r in body]
        return land, sum(n * ROW_IN * 0.85 + 0.05 for n in lines)

    def _folded(self, tb: Table) -> Table:
        """A long two-column table (parameter, value) drawn as two pairs of columns side by side when
        that makes it markedly shorter; the same rows in the same order (down the left, then the
        right). PDF only: the other formats keep one row per parameter."""
        n = len(tb.rows)
        if len(tb.columns) != 2 or n < 12 or self.pw > self.ph:
            return tb
        half = (n + 1) // 2
        left, right = tb.rows[:half], tb.rows[half:] + (("", ""),) * (2 * half - n)
        folded = Table(tb.key, tb.title, tb.columns + tb.columns, tuple(a + b for a, b in zip(left, right)),
                       notes=tb.notes)
        self._uncapped.add(id(folded))
        land, h_folded = self._rows_height(folded)
        _, h_plain = self._rows_height(tb)
        if not land and h_folded < 0.75 * h_plain:
            self._keep.append(folded)  # its id stays valid while it is drawn
            return folded
        self._uncapped.discard(id(folded))
        return tb

    def metadata_page(self) -> None:
        md = self.report.metadata
        if not md:
            return
        self.new_page(landscape=False)
        self.heading(t("metadata.title", self.lang))
        self.paragraph(t("metadata.intro", self.lang))
        for key, value in md.items():
            label = t(f"metadata.{key}", self.lang) if f"metadata.{key}" in _metadata_labels() else key
            self.ensure(2 * LINE_IN)
            self.text(MARGIN_L, self.y - 0.15, label, fontsize=9, weight="bold", color=PALETTE["primary"])
            self.y -= 0.22
            if key == "model_parameters" and len(value) > _PARAMETERS_INLINE_CHARS:
                # pages of raw JSON help nobody on paper: the PDF gives its fingerprint, and the XLSX,
                # CSV and JSON exports hold the text itself (the per-meter pages show each model's table)
                value = t("metadata.model_parameters_digest", self.lang, n=_model_count(value),
                          sha=hashlib.sha256(value.encode("utf-8")).hexdigest())
            self.paragraph(value, size=7.5, color="#222222")

    def footers(self) -> None:
        md = self.report.metadata
        digest = md.get("input_sha256", "")[:12]
        when = md.get("generated_at", "")
        n = len(self.pages)
        for i, fig in enumerate(self.pages, start=1):
            w, h = fig.get_size_inches()
            left = f"Terril · {self.report.title}"
            mid = f"{t('generated_at', self.lang, when=when)} · sha256 {digest}" if when else ""
            fig.text(MARGIN_L / w, 0.45 / h, left, fontsize=7, color=PALETTE["grey"])
            fig.text(0.5, 0.45 / h, mid, fontsize=7, color=PALETTE["grey"], ha="center")
            fig.text((w - MARGIN_R) / w, 0.45 / h, t("page", self.lang, n=i, total=n), fontsize=7,
                     color=PALETTE["grey"], ha="right")

    def build(self) -> list[plt.Figure]:
        r = self.report
        self.title_band(r.title, r.subtitle)
        self.section(r.summary, heading=bool(r.summary.title))
        for s in r.sections:
            # a section that is only wide tables starts on a landscape page with its heading; the
            # others follow on (their heading kept with their first block): no near-empty pages
            wide = (not s.paragraphs and not s.figures and bool(s.tables) and bool(s.tables[0].rows)
                    and self._layout(s.tables[0])[4][0])
            if wide or self.fig is None or self.pw > self.ph:
                self.new_page(landscape=wide)
            else:
                self.y -= 0.15
            self.section(s)
        self.metadata_page()
        self.footers()
        return self.pages


_PARAMETERS_INLINE_CHARS = 600


def _model_count(parameters_json: str) -> int | str:
    """How many models a ``model_parameters`` JSON text holds (a list of models, or one object)."""
    try:
        doc = json.loads(parameters_json)
    except ValueError:
        return "?"
    return len(doc) if isinstance(doc, list) else 1


def _metadata_labels() -> set[str]:
    from analytics.reports.i18n import LABELS

    return {k for k in LABELS if k.startswith("metadata.")}


def write_pdf(report: Report, path: Path) -> Path:
    """The report as an A4 PDF (see the module docstring)."""
    with plt.rc_context({"font.family": "DejaVu Sans", "axes.titlesize": 9, "axes.labelsize": 8,
                         "legend.fontsize": 7.5, "pdf.fonttype": 42}):
        pages = _Pdf(report).build()
        try:
            with PdfPages(path, metadata={"Title": report.title, "Subject": report.subtitle, "Creator": "Terril",
                                          "Keywords": report.metadata.get("input_sha256", "")}) as pdf:
                for fig in pages:
                    pdf.savefig(fig)
        finally:
            pages.clear()
    return path


# ---------------------------------------------------------------------------------------
# XLSX


def _sheet_label(key: str, lang: str) -> str:
    """A table's sheet name in ``lang``: its ``sheet.<key>`` label, ``model_<meter>`` → "Modèle <meter>",
    else the key."""
    from analytics.reports.i18n import LABELS

    if f"sheet.{key}" in LABELS:
        return t(f"sheet.{key}", lang)
    if key.startswith("model_"):
        return t("sheet.model", lang, meter=key[len("model_"):])
    return key


def _sheet_names(tables: Sequence[Table], lang: str | None = None) -> list[str]:
    """Unique sheet (or CSV file) names: translated when ``lang`` is given, else the table keys."""
    used = {"contents", "metadata"} if lang is None else {t("sheet.contents", lang).lower(),
                                                          t("sheet.metadata", lang).lower()}
    names = []
    for tb in tables:
        raw = _sheet_label(tb.key, lang) if lang else tb.key
        base = "".join(c if c.isalnum() or c in "_- ." else "_" for c in raw)[:31] or "table"
        name, k = base, 2
        while name.lower() in used:
            suffix = f" {k}" if lang else f"_{k}"
            name = base[: 31 - len(suffix)] + suffix
            k += 1
        used.add(name.lower())
        names.append(name)
    return names


def write_xlsx(report: Report, path: Path) -> Path:
    """The report as an Excel workbook (see the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lang = report.lang
    wb = Workbook()
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor=PALETTE["primary"].lstrip("#"))
    contents = wb.active
    contents.title = t("sheet.contents", lang)
    contents["A1"] = report.title
    contents["A1"].font = Font(bold=True, size=14)
    contents["A2"] = report.subtitle
    row = 4
    for p in report.summary.paragraphs:
        contents.cell(row=row, column=1, value=p).alignment = Alignment(wrap_text=True, vertical="top")
        contents.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        contents.row_dimensions[row].height = 15 * max(1, math.ceil(len(p) / 110))
        row += 1
    row += 1
    tables = report.all_tables()
    names = _sheet_names(tables, lang)
    for col, label in enumerate((t("contents.sheet", lang), t("contents.table", lang), t("contents.notes", lang)), 1):
        c = contents.cell(row=row, column=col, value=label)
        c.font, c.fill = head_font, head_fill
    for tb, name in zip(tables, names):
        row += 1
        c = contents.cell(row=row, column=1, value=name)
        c.hyperlink = f"#'{name}'!A1"
        c.font = Font(color="0563C1", underline="single")
        contents.cell(row=row, column=2, value=tb.title)
        contents.cell(row=row, column=3, value=tb.notes or None)
    contents.column_dimensions["A"].width = 28
    contents.column_dimensions["B"].width = 60
    contents.column_dimensions["C"].width = 60

    for tb, name in zip(tables, names):
        ws = wb.create_sheet(name)
        for j, col in enumerate(tb.columns, 1):
            c = ws.cell(row=1, column=j, value=col)
            c.font, c.fill = head_font, head_fill
            c.alignment = Alignment(wrap_text=True, vertical="center")
        widths = [max(10, min(50, max((len(w) for w in col.split()), default=8) + 4)) for col in tb.columns]
        for i, r in enumerate(tb.rows, 2):
            for j, v in enumerate(r, 1):
                v = _plain_xlsx(v)
                c = ws.cell(row=i, column=j, value=v)
                if isinstance(v, float):
                    a = abs(v)
                    c.number_format = "#,##0" if a >= 100 else "#,##0.0" if a >= 10 else "#,##0.00" if a >= 0.01 else "0.0000"
                elif isinstance(v, int) and not isinstance(v, bool):
                    c.number_format = "0" if 1900 <= v <= 2100 else "#,##0"
                elif isinstance(v, dt.date):
                    c.number_format = "yyyy-mm-dd"
                shown = len(format_cell(r[j - 1], lang))
                widths[j - 1] = max(widths[j - 1], min(60, shown + 2))
        for j, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = w
        ws.row_dimensions[1].height = 32
        ws.freeze_panes = "A2"
        if tb.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(tb.columns))}{len(tb.rows) + 1}"
        if tb.notes:
            ws.cell(row=len(tb.rows) + 3, column=1, value=tb.notes).font = Font(italic=True, color="555555")

    meta = wb.create_sheet(t("sheet.metadata", lang))
    for j, label in enumerate((t("metadata.key", lang), t("metadata.value", lang)), 1):
        c = meta.cell(row=1, column=j, value=label)
        c.font, c.fill = head_font, head_fill
    labels = _metadata_labels()
    for i, (k, v) in enumerate(report.metadata.items(), 2):
        meta.cell(row=i, column=1, value=t(f"metadata.{k}", lang) if f"metadata.{k}" in labels else k)
        meta.cell(row=i, column=2, value=v).alignment = Alignment(wrap_text=True, vertical="top")
    meta.column_dimensions["A"].width = 24
    meta.column_dimensions["B"].width = 120
    wb.properties.title = report.title
    wb.properties.subject = report.subtitle
    wb.properties.creator = "Terril"
    wb.save(path)
    return path


def _plain_xlsx(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


# ---------------------------------------------------------------------------------------
# CSV and JSON


def _csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]], lang: str) -> str:
    sep = ";" if lang == "fr" else ","
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        out = []
        for v in r:
            v = _plain(v)
            if v is None:
                out.append("")
            elif isinstance(v, bool):
                out.append("true" if v else "false")
            elif isinstance(v, float):
                s = repr(v)
                out.append(s.replace(".", ",") if lang == "fr" else s)
            else:
                out.append(str(v))
        w.writerow(out)
    return "\ufeff" + buf.getvalue()


def write_csv(report: Report, path: Path) -> Path:
    """One CSV per table + ``metadata.csv``: a ZIP if ``path`` ends in ``.zip``, else a folder."""
    tables = report.all_tables()
    names = _sheet_names(tables)
    files = {f"{n}.csv": _csv_text(tb.columns, tb.rows, report.lang) for tb, n in zip(tables, names)}
    files["metadata.csv"] = _csv_text((t("metadata.key", report.lang), t("metadata.value", report.lang)),
                                      report.metadata.items(), report.lang)
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text.encode("utf-8"))
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (path / name).write_bytes(text.encode("utf-8"))
    return path


#: Version of the JSON layout written by :func:`report_to_dict` (bumped on incompatible changes).
JSON_SCHEMA_VERSION = 1


def _json_cell(value: object, numeric: bool) -> object:
    v = _plain(value)
    if numeric and isinstance(v, str):  # "non calculé" / "—" in a numeric column: no number
        return None
    return v


def report_to_dict(report: Report) -> dict[str, object]:
    """The report as plain JSON-ready data: stable snake_case keys, numbers as numbers (NaN and
    "not computed" as null), dates ISO; display labels kept apart (``columns[].label``, titles).
    A report with :attr:`~analytics.reports.model.Report.data` carries it under ``data``."""

    nc = t("not_computed", report.lang)

    def is_num(v: object) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    def table(tb: Table) -> dict[str, object]:
        # a numeric column holds numbers, None, or the "not computed" marker (written as null)
        numeric = [any(is_num(r[j]) for r in tb.rows) and all(r[j] is None or r[j] == nc or is_num(r[j])
                                                               for r in tb.rows) for j in range(len(tb.columns))]
        return {"key": tb.key, "title": tb.title, "notes": tb.notes,
                "columns": [{"key": k, "label": c, "numeric": n} for k, c, n in zip(tb.keys, tb.columns, numeric)],
                "rows": [{k: _json_cell(v, n) for k, v, n in zip(tb.keys, r, numeric)} for r in tb.rows]}

    def section(s: Section) -> dict[str, object]:
        return {
            "title": s.title,
            "paragraphs": list(s.paragraphs),
            "figures": [{"key": f.key, "title": f.title} for f in s.figures],
            "tables": [table(tb) for tb in s.tables],
        }

    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "kind": report.kind,
        "lang": report.lang,
        "title": report.title,
        "subtitle": report.subtitle,
        "metadata": dict(report.metadata),
        "data": _plain_tree(report.data) if report.data is not None else None,
        "summary": section(report.summary),
        "sections": [section(s) for s in report.sections],
    }


def _plain_tree(value: object) -> object:
    """``_plain`` applied through dicts, lists and tuples."""
    if isinstance(value, dict):
        return {str(k): _plain_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_tree(v) for v in value]
    return _plain(value)


def write_json(report: Report, path: Path) -> Path:
    """The report as indented UTF-8 JSON."""
    path.write_text(json.dumps(report_to_dict(report), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def write_report(report: Report, path: Path, fmt: str) -> Path:
    """Write ``report`` to ``path`` as ``fmt`` (``pdf``, ``xlsx``, ``csv``, ``json``); return the path written."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}: expected one of {FORMATS}")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    writer = {"pdf": write_pdf, "xlsx": write_xlsx, "csv": write_csv, "json": write_json}[fmt]
    return writer(report, path)


__all__ = ["FORMATS", "JSON_SCHEMA_VERSION", "PALETTE", "format_cell", "input_hash", "report_to_dict", "write_report"]
