"""The Z-report as a one-page PDF: the documentation of a day's takings that travels with
its voucher (issue 18, item 1) and that the settlement's page offers for download.

Pure: a settlement's plain values in (`Settlement.as_data()`), the bytes of the PDF out;
no database, no network. Laid out from the same report structure as the settlement's page
(settlements.report.zreport), in bokmål by default (a Norwegian accountant's document).

ReportLab (pure Python wheels) draws it with the Bitstream Vera fonts that ship inside
the reportlab package, embedded in the PDF: æøå render everywhere and nothing is fetched.
The output is invariant (no creation time, a fixed document id), so the same settlement
always gives the same bytes: what is uploaded to Visma is what the page offers.

https://docs.reportlab.com/reportlab/userguide/ch5_platypus/
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import reportlab
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepInFrame, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from backoffice.templatetags.money import format_money

from .domain import SettlementData
from .report import zreport

OSLO = ZoneInfo("Europe/Oslo")
FONT = "BackofficeVera"
FONT_BOLD = "BackofficeVera-Bold"
FONT_ITALIC = "BackofficeVera-Italic"

MARGIN = 16 * mm
GREY = colors.HexColor("#5f6b7a")
RULE = colors.HexColor("#c9d1db")
SHADE = colors.HexColor("#f1f4f8")


@cache
def _fonts() -> None:
    """Register the TrueType fonts that ship with reportlab (once per process)."""
    folder = Path(reportlab.__file__).resolve().parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_ITALIC, str(folder / "VeraIt.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=11.5)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=18, leading=22),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=10.5, leading=14, textColor=GREY),
        "h2": ParagraphStyle(
            "h2", base, fontName=FONT_BOLD, fontSize=10.5, leading=13, spaceBefore=6, spaceAfter=3
        ),
        "cell": base,
        "num": ParagraphStyle("num", base, alignment=TA_RIGHT),
        "bold": ParagraphStyle("bold", base, fontName=FONT_BOLD),
        "boldnum": ParagraphStyle("boldnum", base, fontName=FONT_BOLD, alignment=TA_RIGHT),
        "muted": ParagraphStyle("muted", base, fontSize=8, leading=10, textColor=GREY),
    }


def money(value: Decimal | None) -> str:
    """ "1 200,00" (a no-break space between thousands), "−20,00"."""
    return format_money(value, "nb")


def day(value) -> str:
    return f"{value:%d.%m.%Y}"


def moment(value: datetime | None) -> str:
    """A till's time as Oslo wall-clock time: "27.11.2026 09:58"."""
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(OSLO)
    return f"{value:%d.%m.%Y %H:%M}"


def rate(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f").replace(".", ",") + " %"


def zreport_filename(data: SettlementData) -> str:
    """The PDF's file name, the same for the download and the upload to Visma, unique per
    settlement (its reference): `Z-rapport_BO-17_KASSE-1_Z1042_2026-11-27.pdf`. Visma allows
    letters, digits and - _ ( ) in a file name (AttachmentUploadApi.FileName, at most 200)."""
    register = re.sub(r"[^A-Za-z0-9_()-]+", "-", data.register_id).strip("-") or "kasse"
    parts = ["Z-rapport", data.reference, register[:64], f"Z{data.z_number}"]
    name = "_".join(p for p in parts if p) + f"_{data.business_date.isoformat()}"
    return f"{name[:190]}.pdf"


class _Rule(Flowable):
    def __init__(self, width: float):
        super().__init__()
        self.width, self.height = width, 4

    def draw(self) -> None:
        self.canv.setStrokeColor(RULE)
        self.canv.setLineWidth(0.6)
        self.canv.line(0, 2, self.width, 2)


def _table(rows: list[list], widths: list[float], *, header: bool, footer: bool) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    # TableStyle commands are tuples of different lengths (a command, two cells, values).
    style: list[tuple] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ]
    if footer:
        style += [("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black)]
    table.setStyle(TableStyle(style))
    return table


def render_zreport_pdf(
    data: SettlementData, *, organization_name: str = "", language: str = "nb"
) -> bytes:
    """The settlement as the one-page Z-report PDF (A4, portrait). Everything is shrunk to
    fit one page when a till sends very many product groups."""
    _fonts()
    with translation.override(language):
        return _render(data, organization_name)


def _render(data: SettlementData, organization_name: str) -> bytes:
    s = _styles()
    report = zreport(data)
    width, height = A4
    inner = width - 2 * MARGIN - 12  # the frame's own padding (6 pt a side)

    def p(text: str, style: str = "cell") -> Paragraph:
        return Paragraph(escape(str(text)), s[style])

    def n(value: Decimal | None, style: str = "num") -> Paragraph:
        return Paragraph(escape(money(value)), s[style])

    story: list = []
    title = _("Z-rapport %(z)s") % {"z": data.z_number}
    story.append(p(title, "title"))
    weekday = dateformat.format(data.business_date, "l")
    subtitle = " · ".join(
        part for part in (data.location_name, organization_name, data.register_id) if part
    )
    story.append(p(subtitle, "subtitle"))
    story.append(Spacer(1, 4))

    facts = [
        [_("Butikk"), data.location_name or "–", _("Forretningsdato"), f"{weekday} {day(data.business_date)}"],
        [_("Kasse"), data.register_id, _("Åpnet"), moment(data.opened_at)],
        [_("Z-nummer"), str(data.z_number), _("Stengt"), moment(data.closed_at)],
        [_("Valuta"), data.currency, _("Referanse"), data.reference or "–"],
    ]  # fmt: skip
    fact_rows = [[p(a, "muted"), p(b, "bold"), p(c, "muted"), p(d, "bold")] for a, b, c, d in facts]
    story.append(
        _table(fact_rows, [inner * 0.16, inner * 0.34, inner * 0.18, inner * 0.32], header=False, footer=False)
    )  # fmt: skip
    story.append(Spacer(1, 3))
    story.append(_Rule(inner))

    # Sales per product group and rate.
    story.append(p(_("Salg per varegruppe"), "h2"))
    sales_rows = [
        [p(_("Varegruppe"), "bold"), p(_("MVA-sats"), "boldnum"), p(_("Antall"), "boldnum"),
         p(_("Brutto"), "boldnum"), p(_("MVA"), "boldnum"), p(_("Netto"), "boldnum")]
    ]  # fmt: skip
    for line in report["sales"]:
        sales_rows.append(
            [
                p(line.product_group),
                p(rate(line.vat_rate), "num"),
                p("" if line.count is None else str(line.count), "num"),
                n(line.gross_amount),
                n(line.vat_amount),
                n(line.net_amount),
            ]
        )
    total = report["sales_total"]
    sales_rows.append(
        [
            p(_("Sum salg"), "bold"),
            p(""),
            p("" if total["count"] is None else str(total["count"]), "boldnum"),
            n(total["gross"], "boldnum"),
            n(total["vat"], "boldnum"),
            n(total["net"], "boldnum"),
        ]
    )
    if not report["sales"]:
        sales_rows.insert(1, [p(_("Ingen salg denne dagen."))] + [p("")] * 5)
    story.append(
        _table(
            sales_rows,
            [inner * 0.34, inner * 0.11, inner * 0.1, inner * 0.15, inner * 0.15, inner * 0.15],
            header=True,
            footer=True,
        )
    )

    half = (inner - 8 * mm) / 2

    # VAT per rate | payments.
    vat_rows = [
        [p(_("Sats"), "bold"), p(_("Grunnlag"), "boldnum"), p(_("MVA"), "boldnum"),
         p(_("Brutto"), "boldnum")]
    ]  # fmt: skip
    for row in report["vat_rows"]:
        vat_rows.append([p(rate(row.rate)), n(row.net), n(row.vat), n(row.gross)])
    vat_rows.append(
        [p(_("Sum"), "bold"), n(total["net"], "boldnum"), n(total["vat"], "boldnum"),
         n(total["gross"], "boldnum")]
    )  # fmt: skip
    vat_block = [
        p(_("MVA per sats"), "h2"),
        _table(vat_rows, [half * 0.22, half * 0.28, half * 0.22, half * 0.28], header=True, footer=True),
    ]  # fmt: skip

    payment_rows = [[p(_("Betalingsmåte"), "bold"), p(_("Beløp"), "boldnum")]]
    for payment in report["payments"]:
        payment_rows.append([p(payment["label"]), n(payment["amount"])])
    payment_rows.append([p(_("Sum betalinger"), "bold"), n(report["payments_total"], "boldnum")])
    payment_block = [
        p(_("Betalinger"), "h2"),
        _table(payment_rows, [half * 0.6, half * 0.4], header=True, footer=True),
    ]

    # The balance check | the cash count.
    balance = report["balance"]
    balance_rows = [
        [p(_("Salg inkl. mva")), n(balance["sales"])],
        [p("+ " + _("Tips")), n(balance["tips"])],
        [p("+ " + _("Gavekort solgt")), n(balance["gift_cards_sold"])],
        [p("+ " + _("Øreavrunding")), n(balance["rounding"])],
        [p("= " + _("Skal være betalt"), "bold"), n(balance["expected"], "boldnum")],
        [p(_("Betalinger")), n(balance["payments"])],
        [p(_("Differanse"), "bold"), n(balance["difference"], "boldnum")],
    ]
    verdict = _("Går i balanse") if not balance["difference"] else _("Går ikke i balanse")
    balance_block = [
        p(_("Balansekontroll"), "h2"),
        _table(balance_rows, [half * 0.6, half * 0.4], header=False, footer=True),
        p(verdict, "muted"),
    ]

    cash = report["cash"]
    if cash is not None:
        difference = cash["difference"]
        label = _("Kassedifferanse")
        if difference < 0:
            label += " (" + _("mangler") + ")"
        elif difference > 0:
            label += " (" + _("overskudd") + ")"
        cash_rows = [
            [p(_("Vekselkasse (inngående)")), n(cash["opening_float"])],
            [p("+ " + _("Kontantbetalinger")), n(cash["cash_payments"])],
            [p("+ " + _("Innskudd")), n(cash["pay_ins_total"])],
            [p("− " + _("Uttak")), n(cash["pay_outs_total"])],
            [p("= " + _("Forventet i kassen"), "bold"), n(cash["expected"], "boldnum")],
            [p(_("Opptalt")), n(cash["counted"])],
            [p(label, "bold"), n(difference, "boldnum")],
        ]
        cash_block = [
            p(_("Kasseopptelling"), "h2"),
            _table(cash_rows, [half * 0.6, half * 0.4], header=False, footer=True),
        ]
    else:
        cash_block = [
            p(_("Kasseopptelling"), "h2"),
            p(_("Kassen sendte ingen opptelling."), "muted"),
        ]
    movements = [(_("Innskudd"), m.reason, m.amount) for m in report["pay_ins"]] + [
        (_("Uttak"), m.reason, -m.amount) for m in report["pay_outs"]
    ]
    if movements:
        cash_block.append(Spacer(1, 3))
        cash_block.append(
            _table(
                [
                    [p(f"{kind}: {reason}" if reason else kind), n(amount)]
                    for kind, reason, amount in movements
                ],
                [half * 0.6, half * 0.4],
                header=False,
                footer=False,
            )
        )

    extra_rows = [
        [p(_("Tips")), n(report["tips"])],
        [p(_("Gavekort solgt")), n(report["gift_cards_sold"])],
        [p(_("Øreavrunding")), n(report["rounding"])],
    ]
    extra_block = [
        p(_("Tips, gavekort og avrunding"), "h2"),
        _table(extra_rows, [half * 0.6, half * 0.4], header=False, footer=False),
    ]
    counter_block: list = []
    if report["counters"]:
        counter_block = [
            p(_("Tellere"), "h2"),
            _table(
                [
                    [p(c.label), p(money(c.value) if c.is_amount else str(c.value), "num")]
                    for c in report["counters"]
                ],
                [half * 0.6, half * 0.4],
                header=False,
                footer=False,
            ),
        ]

    def pair(left: list, right: list) -> Table:
        table = Table([[left, right]], colWidths=[half + 8 * mm, half], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), FONT),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (0, -1), 8 * mm),
                    ("RIGHTPADDING", (1, 0), (1, -1), 0),
                ]
            )
        )
        return table

    story.append(pair(vat_block, payment_block))
    story.append(pair(balance_block, cash_block))
    story.append(pair(extra_block, counter_block))

    footer = _("Dagsoppgjør %(reference)s fra kassen, gjengitt av Backoffice. Side 1 av 1.") % {
        "reference": data.reference or f"Z{data.z_number}"
    }

    def draw_footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN / 2, footer)
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{title} · {data.register_id} · {data.location_name} · {day(data.business_date)}",
        author="Backoffice",
        subject=_("Dagsoppgjør (Z-rapport)"),
        creator="Backoffice",
        invariant=1,
        # Not the canvas's default Helvetica, which the reader would have to supply.
        initialFontName=FONT,
    )
    # One page whatever the till sent: the whole report shrinks to the frame if it must.
    story = [KeepInFrame(inner, height - 2 * MARGIN - 12, story, mode="shrink")]
    document.build(story, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return buffer.getvalue()
