"""GraphQL types of the contract: receipts."""

from __future__ import annotations

import strawberry

from app.domain.sales import views
from app.domain.sales.models import Sale as SaleModel
from app.domain.sales.receipt import render_html, render_text
from app.domain.sales.receipt_data import receipt_data
from app.domain.shifts import views as shift_views
from app.schema.loaders import load


@strawberry.type(description="A sale's receipt, ready to print or show.")
class Receipt:
    text: str = strawberry.field(description="Plain text, 42 columns wide, for thermal receipt printers.")
    html: str = strawberry.field(
        description="Self-contained HTML (inline styles, no external assets) for screen or email."
    )


async def receipt_of(info: strawberry.Info, sale: SaleModel) -> Receipt:
    """The receipt of a sale the caller may see (the caller checks that); lines and tenders batched
    per request."""
    lines = await load(info, views.lines_by_sale, sale.id, default=[])
    tenders = await load(info, shift_views.tenders_by_sale, sale.id, default=[])
    settings = info.context.db.settings
    data = receipt_data(
        sale,
        lines,
        tenders,
        store=settings.store_name,
        currency=settings.currency,
        timezone=settings.store_timezone,
    )
    return Receipt(text=render_text(data), html=render_html(data))
