"""Rendering a receipt (pure: no database): 42 columns whatever the names and amounts, taxes and
split tenders printed, HTML self-contained and escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import wcwidth
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.sales.receipt import WIDTH, ReceiptData, ReceiptLine, ReceiptTender, render_html, render_text

D = Decimal
WHEN = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)


def receipt(**changes) -> ReceiptData:
    values = dict(
        store="Happy Paws",
        number="S-000042",
        date=WHEN,
        currency="USD",
        lines=(
            ReceiptLine("Dog bed", 2, D("30.00"), D("0.00")),
            ReceiptLine("Nail trim", 1, D("12.50"), D("2.50")),
        ),
        subtotal=D("70.00"),
        discounts=(("Coupon TEN", D("10.00")), ("Points (50)", D("0.50"))),
        tax=D("4.91"),
        total=D("64.41"),
        tenders=(ReceiptTender("CARD", D("40.00"), "VISA 4242"), ReceiptTender("CASH", D("30.00"))),
        change=D("5.59"),
        points_earned=64,
        points_redeemed=50,
    )
    return ReceiptData(**{**values, **changes})


def columns(text: str) -> list[int]:
    return [wcwidth.width(line) for line in text.splitlines()]


def test_the_text_receipt_prints_every_part_in_42_columns():
    text = render_text(receipt())
    assert text == (
        "                Happy Paws\n"
        "Sale S-000042         2026-11-27 10:05 UTC\n"
        "------------------------------------------\n"
        "Dog bed\n"
        "  2 x 30.00                          60.00\n"
        "Nail trim\n"
        "  1 x 12.50                          12.50\n"
        "  Discount                           -2.50\n"
        "------------------------------------------\n"
        "Subtotal                             70.00\n"
        "Coupon TEN                          -10.00\n"
        "Points (50)                          -0.50\n"
        "Tax                                   4.91\n"
        "TOTAL USD                            64.41\n"
        "------------------------------------------\n"
        "Card (VISA 4242)                     40.00\n"
        "Cash                                 30.00\n"
        "Change                                5.59\n"
        "------------------------------------------\n"
        "Points earned                           64\n"
        "Points redeemed                         50\n"
        "\n"
        "                Thank you!\n"
    )
    assert max(columns(text)) == WIDTH


def test_without_change_or_points_those_lines_are_left_out():
    text = render_text(
        receipt(
            tenders=(ReceiptTender("ONLINE", D("64.41")),), change=D("0"), points_earned=0, points_redeemed=0
        )
    )
    assert "Paid online                          64.41" in text
    assert "Change" not in text and "Points" not in text.replace("Points (50)", "")


names = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=200
)  # any script, emoji, combining marks, control characters
amounts = st.decimals(min_value=0, max_value=D("9999999999.99"), places=2)


@settings(max_examples=200, deadline=None)
@given(
    store=names,
    name=names,
    reference=st.none() | names,
    label=names,
    quantity=st.integers(1, 999),
    price=amounts,
    big=amounts,
    number=st.text(min_size=1, max_size=60),
)
def test_no_line_is_wider_than_42_columns(store, name, reference, label, quantity, price, big, number):
    data = receipt(
        store=store,
        number=number,
        lines=(ReceiptLine(name, quantity, price, big), ReceiptLine(name + name, 999, big, D("0"))),
        subtotal=big * 999,
        discounts=((label, big),),
        tax=big,
        total=big,
        tenders=(ReceiptTender("CARD", big, reference), ReceiptTender("CASH", big, None)),
        change=big,
        points_earned=10**12,
    )
    text = render_text(data)
    assert max(columns(text)) <= WIDTH
    # Nothing a printer takes as a command survives: no control character but the line breaks.
    assert not [c for c in text if c != "\n" and (ord(c) < 32 or 0x7F <= ord(c) < 0xA0)]


def test_unicode_names_keep_their_letters_and_wide_ones_count_two_columns():
    name = "猫のおもちゃ ネズミ型 とても長い名前の商品です Çà ñ 🐕‍🦺"
    text = render_text(receipt(lines=(ReceiptLine(name, 1, D("4.50"), D("0")),)))
    assert "猫のおもちゃ" in text and "🐕‍🦺" in text and "Çà ñ" in text
    assert max(columns(text)) <= WIDTH
    name_lines = text.splitlines()[3 : text.splitlines().index("  1 x 4.50" + " " * 28 + "4.50")]
    assert "".join(name_lines).replace(" ", "") == name.replace(" ", "")
    # A wide character fills two columns: these lines hold fewer characters than columns.
    assert sum(len(line) for line in name_lines) < sum(columns("\n".join(name_lines)))


HOSTILE = (
    '<script>alert(1)</script><img src="https://evil.example/x.png" onerror=alert(2)>'
    "<a href='javascript:alert(3)'>&amp;</a><style>@import url(http://evil.example/c.css)</style>\x1b[2J"
)


def test_html_escapes_every_value_and_keeps_to_inline_styles():
    page = render_html(
        receipt(
            store=HOSTILE,
            number=HOSTILE,
            lines=(ReceiptLine(HOSTILE, 1, D("1.00"), D("0")),),
            discounts=((HOSTILE, D("1.00")),),
            tenders=(ReceiptTender("CARD", D("1.00"), HOSTILE),),
        )
    )
    assert "<script" not in page and "<img" not in page and "<a " not in page and "<style" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=&quot;https://evil.example/x.png&quot;" in page
    assert "\x1b" not in page
    # Self-contained: the only markup is the renderer's own, and none of it fetches anything.
    tags = re.findall(r"<[^>]*>", page)
    assert not [tag for tag in tags if re.search(r"\b(src|href|srcset|action)\s*=|url\(|@import|//", tag)]
    assert {re.match(r"</?!?(\w+)", tag).group(1).lower() for tag in tags} <= {
        "doctype", "html", "head", "meta", "title", "body", "div", "h1", "p", "table", "tr", "td", "span",
        "br",
    }  # fmt: skip


def test_html_shows_tax_split_tenders_and_change():
    page = render_html(receipt())
    for text in ["Tax", "4.91", "Card (VISA 4242)", "40.00", "Cash", "30.00", "Change", "5.59", "64.41",
                 "Coupon TEN", "-10.00", "Points earned", "S-000042", "2026-11-27 10:05 UTC"]:  # fmt: skip
        assert text in page, text
    assert page.startswith("<!DOCTYPE html>") and 'meta charset="utf-8"' in page
