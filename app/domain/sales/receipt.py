"""Receipts: a sale as 42-column plain text for thermal printers, and as self-contained HTML.

Pure: rendering takes a ReceiptData and touches no database (receipt_data.py builds one from a sale).
Widths are display columns (wcwidth): a CJK character takes two, a combining accent none.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import wcwidth

WIDTH = 42
RULE = "-" * WIDTH
METHOD_LABELS = {"CASH": "Cash", "CARD": "Card", "ONLINE": "Paid online"}


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal  # the line's own discount (POS custom lines)


@dataclass(frozen=True)
class ReceiptTender:
    method: str  # CASH, CARD, ONLINE
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True)
class ReceiptData:
    store: str
    number: str
    date: datetime
    currency: str
    lines: tuple[ReceiptLine, ...]
    subtotal: Decimal
    discounts: tuple[tuple[str, Decimal], ...]  # sale-level: (label, amount taken off)
    tax: Decimal
    total: Decimal
    tenders: tuple[ReceiptTender, ...]
    change: Decimal
    points_earned: int = 0
    points_redeemed: int = 0
    tax_included: bool = False  # PETPOS_PRICES_INCLUDE_TAX when sold: the tax is inside the total
    timezone: str = "UTC"  # PETPOS_STORE_TIMEZONE: the zone the sale's time is given in


def amount(value: Decimal) -> str:
    return f"{value:,.2f}"


# Direction overrides and isolates could make a name read differently from what it holds.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(value: str) -> str:
    """Control characters (a printer takes ESC and friends as commands) become spaces; direction
    controls go."""
    return "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else "" if c in BIDI_CONTROLS else c
        for c in value
    )


def cols(value: str) -> int:
    return wcwidth.width(value)


def wrap(value: str, width: int = WIDTH, indent: str = "") -> list[str]:
    lines = wcwidth.wrap(printable(value), width, initial_indent=indent, subsequent_indent=indent)
    return lines or [indent.rstrip()]


def row(left: str, right: str, indent: str = "") -> list[str]:
    """`left` flush left and `right` flush right; `left` wraps, and `right` takes a line of its
    own when the last line of `left` leaves no room for it."""
    right = printable(right)
    lines = wrap(left, indent=indent)
    if cols(lines[-1]) + 1 + cols(right) <= WIDTH:
        lines[-1] = lines[-1] + " " * (WIDTH - cols(lines[-1]) - cols(right)) + right
    else:
        lines += [wcwidth.rjust(part, WIDTH) for part in wrap(right)]
    return lines


def tender_label(tender: ReceiptTender) -> str:
    label = METHOD_LABELS.get(tender.method, tender.method.title())
    return f"{label} ({tender.reference})" if tender.reference else label


def tax_label(data: ReceiptData) -> str:
    return "Tax (included)" if data.tax_included else "Tax"


def stamp(date: datetime, timezone: str = "UTC") -> str:
    """The sale's time in the store's zone, with the zone's abbreviation (EST, CET, UTC)."""
    return date.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def render_text(data: ReceiptData) -> str:
    """The receipt for a thermal printer: no line wider than WIDTH columns."""
    out = [wcwidth.center(part, WIDTH).rstrip() for part in wrap(data.store)]
    out += row(f"Sale {data.number}", stamp(data.date, data.timezone))
    out.append(RULE)
    for line in data.lines:
        out += wrap(line.name)
        gross = line.unit_price * line.quantity
        out += row(f"{line.quantity} x {amount(line.unit_price)}", amount(gross), indent="  ")
        if line.discount:
            out += row("Discount", amount(-line.discount), indent="  ")
    out.append(RULE)
    out += row("Subtotal", amount(data.subtotal))
    for label, taken in data.discounts:
        out += row(label, amount(-taken))
    out += row(tax_label(data), amount(data.tax))
    out += row(f"TOTAL {data.currency}", amount(data.total))
    out.append(RULE)
    for tender in data.tenders:
        out += row(tender_label(tender), amount(tender.amount))
    if data.change:
        out += row("Change", amount(data.change))
    if data.points_earned or data.points_redeemed:
        out.append(RULE)
        out += row("Points earned", str(data.points_earned))
        out += row("Points redeemed", str(data.points_redeemed))
    out += ["", wcwidth.center("Thank you!", WIDTH).rstrip()]
    return "\n".join(out) + "\n"


# Inline styles only: the page must render the same in an email client, offline, with no assets.
PAGE = "margin:0;padding:16px;background:#f4f4f4;color:#111;"
CARD = (
    "max-width:360px;margin:0 auto;padding:16px;background:#fff;border:1px solid #ddd;"
    "font-family:Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:14px;line-height:1.4;"
)
TABLE = "width:100%;border-collapse:collapse;"
RIGHT = "text-align:right;white-space:nowrap;vertical-align:top;padding-left:8px;"
RULED = "border-top:1px dashed #999;"
MUTED = "color:#555;font-size:12px;"


def render_html(data: ReceiptData) -> str:
    """The receipt as one HTML document for a screen or an email: every value escaped."""

    def e(value: str) -> str:
        return html.escape(printable(value), quote=True)

    def tr(left: str, right: str, style: str = "", left_style: str = "") -> str:
        return (
            f'<tr style="{style}"><td style="vertical-align:top;{left_style}">{left}</td>'
            f'<td style="{RIGHT}">{right}</td></tr>'
        )

    rows = []
    for line in data.lines:
        detail = f"{line.quantity} &times; {e(amount(line.unit_price))}"
        rows.append(
            tr(
                f'{e(line.name)}<br><span style="{MUTED}">{detail}</span>',
                e(amount(line.unit_price * line.quantity)),
            )
        )
        if line.discount:
            rows.append(tr(f'<span style="{MUTED}">Discount</span>', e(amount(-line.discount))))
    totals = [tr("Subtotal", e(amount(data.subtotal)), RULED)]
    totals += [tr(e(label), e(amount(-taken))) for label, taken in data.discounts]
    totals.append(tr(tax_label(data), e(amount(data.tax))))
    totals.append(tr(f"Total {e(data.currency)}", e(amount(data.total)), "font-weight:bold;font-size:16px;"))
    paid = [
        tr(e(tender_label(t)), e(amount(t.amount)), RULED if i == 0 else "")
        for i, t in enumerate(data.tenders)
    ]
    if data.change:
        paid.append(tr("Change", e(amount(data.change))))
    if data.points_earned or data.points_redeemed:
        paid.append(tr("Points earned", str(data.points_earned), RULED))
        paid.append(tr("Points redeemed", str(data.points_redeemed)))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Receipt {e(data.number)}</title></head>"
        f'<body style="{PAGE}"><div style="{CARD}">'
        f'<h1 style="margin:0 0 4px;font-size:18px;text-align:center;">{e(data.store)}</h1>'
        f'<p style="margin:0 0 12px;text-align:center;{MUTED}">'
        f"Sale {e(data.number)} &middot; {e(stamp(data.date, data.timezone))}</p>"
        f'<table style="{TABLE}">{"".join(rows + totals + paid)}</table>'
        '<p style="margin:12px 0 0;text-align:center;">Thank you!</p>'
        "</div></body></html>"
    )
