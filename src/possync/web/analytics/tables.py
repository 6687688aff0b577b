"""Every table on the business pages, declared once: its columns and rows feed both the HTML
(formatted for people) and the CSV download (plain decimal strings)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from possync.web.analytics.money import money_display, money_text
from possync.web.analytics.products_data import ProductFigures, UnsoldProduct
from possync.web.analytics.sales_data import Breakdown
from possync.web.analytics.stock_data import StockLine


@dataclass(frozen=True)
class Column:
    """`kind`: text, count, quantity, money or percent (how the page formats it)."""

    title: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    definition: str
    columns: tuple[Column, ...]
    rows: list[list[Any]]
    total: int | None = None  # rows in the full table, when `rows` holds only the page's first

    @property
    def row_count(self) -> int:
        return len(self.rows) if self.total is None else self.total

    def html_rows(self, limit: int | None = None) -> list[Markup]:
        """The first `limit` rows (None: all) as `<tr>` elements, formatted for people and
        escaped. Built here rather than cell by cell in the template: a page shows a thousand
        cells, and a template call per cell was a fifth of the Products page's time."""
        numeric = [column.kind != "text" for column in self.columns]
        rows = self.rows[:limit] if limit else self.rows
        return [
            Markup(
                "<tr>"
                + "".join(
                    (_NUM_CELL if num else _CELL) % escape(display(value, column.kind))
                    for value, column, num in zip(row, self.columns, numeric, strict=True)
                )
                + "</tr>"
            )
            for row in rows
        ]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([c.title for c in self.columns])
        for row in self.rows:
            writer.writerow([_plain(value) for value in row])
        return out.getvalue()


_CELL = "<td>%s</td>"
_NUM_CELL = '<td class="num">%s</td>'
FORMULA_STARTS = ("=", "+", "-", "@")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return money_text(value) or ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # a product named "=HYPERLINK(…)" must not run in a spreadsheet
    return str(value)


def display(value: Any, kind: str) -> str:
    """A cell as people read it."""
    if value is None:
        return "—"
    if kind == "money":
        return money_display(Decimal(value))
    if kind == "count":
        return f"{int(value):,}"
    if kind == "quantity":
        return f"{Decimal(value).normalize():,f}"
    if kind == "percent":
        return f"{value}%"
    return str(value)


DAILY_COLUMNS = (
    Column("Date"),
    Column("Location"),
    Column("Sales", "count"),
    Column("Returns", "count"),
    Column("Gross sales", "money"),
    Column("Discounts", "money"),
    Column("Returns amount", "money"),
    Column("Net sales", "money"),
    Column("Tax", "money"),
    Column("Tips", "money"),
    Column("Total collected", "money"),
    Column("Average sale", "money"),
)


def daily_table(rows: list[dict[str, Any]]) -> Table:
    return Table(
        "daily",
        "By day and location",
        "Business dates in each location's own time zone.",
        DAILY_COLUMNS,
        [
            [
                r["date"].isoformat(),
                r["location_name"] or r["location_id"],
                r["sales_count"],
                r["return_count"],
                r["gross_sales"],
                r["discounts"],
                r["returns"],
                r["net_sales"],
                r["tax"],
                r["tips"],
                r["total_collected"],
                r["average_sale"],
            ]
            for r in rows
        ],
    )


def location_table(rows: list[dict[str, Any]]) -> Table:
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for r in rows:
        entry = totals[r["location_name"] or r["location_id"]]
        entry[0] += r["sales_count"]
        entry[1] += r["net_sales"] or 0
        entry[2] += r["tax"] or 0
    return Table(
        "locations",
        "By outlet / location",
        "Net sales and tax of each location over the range.",
        (Column("Location"), Column("Sales", "count"), Column("Net sales", "money"),
         Column("Tax", "money")),
        [[name, *values] for name, values in sorted(totals.items(), key=lambda kv: -kv[1][1])],
    )  # fmt: skip


def breakdown_table(name: str, title: str, definition: str, rows: list[Breakdown]) -> Table:
    return Table(
        name,
        title,
        definition,
        (Column("Label"), Column("Count", "count"), Column("Amount", "money")),
        [[b.label, b.count, b.amount] for b in rows],
    )


PRODUCT_COLUMNS = (
    Column("Product"),
    Column("SKU"),
    Column("Category"),
    Column("Units", "quantity"),
    Column("Net sales", "money"),
    Column("Cost", "money"),
    Column("Margin", "money"),
    Column("Margin %", "percent"),
)


def product_table(
    name: str, title: str, products: list[ProductFigures], total: int | None = None
) -> Table:
    return Table(
        name,
        title,
        "Net sales: tax exclusive, after discounts, returns subtracted. Margin = net sales − "
        "cost (the POS's cost of each line; Square gives none).",
        PRODUCT_COLUMNS,
        [
            [p.name, p.sku, p.category, p.units, p.net_sales, p.cost, p.margin, p.margin_percent]
            for p in products
        ],
        total,
    )


def category_table(categories: list[ProductFigures]) -> Table:
    return Table(
        "categories",
        "Categories",
        "Each category's products added up.",
        (Column("Category"), Column("Units", "quantity"), Column("Net sales", "money"),
         Column("Cost", "money"), Column("Margin", "money"), Column("Margin %", "percent")),
        [[c.name, c.units, c.net_sales, c.cost, c.margin, c.margin_percent] for c in categories],
    )  # fmt: skip


def unsold_table(days: int, unsold: list[UnsoldProduct], total: int | None = None) -> Table:
    return Table(
        "unsold",
        f"Not sold for {days} days",
        f"Active products with stock on hand and no sale in the {days} days up to the range's "
        "end; last sold is their latest sale before then.",
        (Column("Product"), Column("SKU"), Column("On hand", "quantity"), Column("Last sold")),
        [[u.name, u.sku, u.on_hand, u.last_sold or "never"] for u in unsold],
        total,
    )


def reorder_table(lines: list[StockLine]) -> Table:
    return Table(
        "reorder",
        "To reorder",
        "Stock at or under its reorder point. Days of cover = on hand ÷ (units sold in the "
        "28 days up to the range's end ÷ 28).",
        (Column("Product"), Column("SKU"), Column("Outlet"), Column("On hand", "quantity"),
         Column("Reorder point", "quantity"), Column("Reorder amount", "quantity"),
         Column("Sold (28 days)", "quantity"), Column("Days of cover", "quantity"),
         Column("Stock value", "money")),
        [
            [s.name, s.sku, s.outlet_name, s.on_hand, s.reorder_point, s.reorder_amount,
             s.units_sold_28d, s.days_of_cover, s.stock_value]
            for s in lines
        ],
    )  # fmt: skip
