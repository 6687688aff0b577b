"""Documents other than orders: locations, catalog objects, customers, payments, refunds."""

from __future__ import annotations

import random
import zlib
from typing import Any

from possync.simulator.square.build_orders import PaymentPlan
from possync.simulator.square.common import format_ms, format_seconds, mixed_id, money

APPLICATION_ID = "sq0idp-possyncSimulatorApp01"
BUSINESS_NAME = "Harbor & Pine Coffee"


def location_doc(
    *,
    location_id: str,
    merchant_id: str,
    name: str,
    zone: str,
    city: tuple[str, str, str, float, float],
    created_ms: int,
    active: bool,
    street_number: int,
) -> dict[str, Any]:
    """A Location as ListLocations serves it (created_at at whole seconds, as Square does)."""
    locality, state, postal_code, latitude, longitude = city
    return {
        "id": location_id,
        "name": name,
        "address": {
            "address_line_1": f"{street_number} Main St",
            "locality": locality,
            "administrative_district_level_1": state,
            "postal_code": postal_code,
            "country": "US",
        },
        "timezone": zone,
        "capabilities": ["CREDIT_CARD_PROCESSING", "AUTOMATIC_TRANSFERS"],
        "status": "ACTIVE" if active else "INACTIVE",
        "created_at": format_seconds(created_ms),
        "merchant_id": merchant_id,
        "country": "US",
        "language_code": "en-US",
        "currency": "USD",
        "phone_number": f"+1 555-01{street_number % 100:02d}",
        "business_name": BUSINESS_NAME,
        "type": "PHYSICAL",
        "coordinates": {"latitude": latitude, "longitude": longitude},
        "mcc": "5814",
    }


def category_doc(category_id: str, name: str) -> dict[str, Any]:
    """A CATEGORY object (stamped with updated_at/version when saved)."""
    return {
        "type": "CATEGORY",
        "id": category_id,
        "present_at_all_locations": True,
        "category_data": {
            "name": name,
            "category_type": "REGULAR_CATEGORY",
            "is_top_level": True,
        },
    }


def tax_doc(tax_id: str, name: str, percentage: str) -> dict[str, Any]:
    """A TAX object."""
    return {
        "type": "TAX",
        "id": tax_id,
        "present_at_all_locations": True,
        "tax_data": {
            "name": name,
            "calculation_phase": "TAX_SUBTOTAL_PHASE",
            "inclusion_type": "ADDITIVE",
            "percentage": percentage,
            "applies_to_custom_amounts": True,
            "enabled": True,
        },
    }


def item_doc(item_id: str, name: str, category_id: str, tax_id: str) -> dict[str, Any]:
    """An ITEM object without its variations (they are embedded when rendered)."""
    return {
        "type": "ITEM",
        "id": item_id,
        "present_at_all_locations": True,
        "item_data": {
            "name": name,
            "description": f"{name}, made fresh.",
            "is_taxable": True,
            "categories": [{"id": category_id, "ordinal": 0}],
            "reporting_category": {"id": category_id, "ordinal": 0},
            "tax_ids": [tax_id],
            "product_type": "REGULAR",
        },
    }


def variation_doc(
    variation_id: str, item_id: str, name: str, sku: str, ordinal: int, price: int
) -> dict[str, Any]:
    """An ITEM_VARIATION object."""
    return {
        "type": "ITEM_VARIATION",
        "id": variation_id,
        "present_at_all_locations": True,
        "item_variation_data": {
            "item_id": item_id,
            "name": name,
            "sku": sku,
            "ordinal": ordinal,
            "pricing_type": "FIXED_PRICING",
            "price_money": money(price),
            "track_inventory": True,
            "sellable": True,
            "stockable": True,
        },
    }


def customer_doc(
    rng: random.Random,
    *,
    customer_id: str,
    given: str,
    family: str,
    number: int,
    created_ms: int,
    updated_ms: int,
    version: int,
) -> dict[str, Any]:
    """A Customer. `updated_at` has whole seconds and `created_at` milliseconds, as in Square."""
    doc: dict[str, Any] = {
        "id": customer_id,
        "created_at": format_ms(created_ms),
        "updated_at": format_seconds(updated_ms),
        "given_name": given,
        "family_name": family,
        "email_address": f"{given.lower()}.{family.lower()}{number}@example.com",
        "phone_number": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        "preferences": {"email_unsubscribed": rng.random() < 0.1},
        "creation_source": rng.choice(("DIRECTORY", "THIRD_PARTY", "INSTANT_PROFILE", "IMPORT")),
        "version": version,
    }
    if rng.random() < 0.3:
        doc["reference_id"] = f"LOYALTY-{number:06d}"
    if rng.random() < 0.2:
        doc["birthday"] = f"{rng.choice(('0000', '1984', '1991'))}-{rng.randint(1, 12):02d}-15"
    return doc


# Team members who take payments, chosen from the payment's id (no draw from the seed's random
# stream, so every other value of a seeded store stays as it was).
TEAM_MEMBERS = ("TMa8Yx2Lq4RkWv", "TMb3Np7Vw9CsQe", "TMc6Hd1Zt5JmXo")


def team_member_for(payment_id: str) -> str:
    return TEAM_MEMBERS[zlib.crc32(payment_id.encode()) % len(TEAM_MEMBERS)]


def payment_doc(
    rng: random.Random,
    order: dict[str, Any],
    plan: PaymentPlan,
    updated_ms: int,
    *,
    offline_client_ms: int | None = None,
) -> dict[str, Any]:
    """The Payment behind one tender of a completed order."""
    amount = plan.amount - plan.tip
    doc: dict[str, Any] = {
        "id": plan.payment_id,
        "created_at": format_ms(plan.created_ms),
        "updated_at": format_ms(updated_ms),
        "amount_money": money(amount),
        "total_money": money(plan.amount),
        "approved_money": money(plan.amount),
        "status": "COMPLETED",
        "source_type": plan.source_type,
        "location_id": order["location_id"],
        "order_id": order["id"],
        "receipt_number": plan.payment_id[:4],
        "receipt_url": f"https://squareup.com/receipt/preview/{plan.payment_id}",
        "application_details": {"square_product": "SQUARE_POS", "application_id": APPLICATION_ID},
        "version_token": mixed_id(rng, 45),
        "is_offline_payment": offline_client_ms is not None,
        "team_member_id": team_member_for(plan.payment_id),
    }
    if plan.tip:
        doc["tip_money"] = money(plan.tip)
    if order.get("customer_id"):
        doc["customer_id"] = order["customer_id"]
    if offline_client_ms is not None:
        doc["offline_payment_details"] = {"client_created_at": format_ms(offline_client_ms)}
    if plan.source_type == "CARD":
        fee = (plan.amount * 26 + 500) // 1000 + 10
        doc["processing_fee"] = [
            {
                "effective_at": format_ms(plan.created_ms + 2_000),
                "type": "INITIAL",
                "amount_money": money(fee),
            }
        ]
        doc["card_details"] = {
            "status": "CAPTURED",
            "card": {
                "card_brand": plan.card_brand,
                "last_4": plan.last_4,
                "exp_month": 1 + plan.created_ms % 12,
                "exp_year": 2028 + plan.created_ms % 4,
                "card_type": "CREDIT",
                "prepaid_type": "NOT_PREPAID",
                "bin": "411111",
            },
            "entry_method": plan.entry_method,
            "cvv_status": "CVV_NOT_CHECKED",
            "avs_status": "AVS_NOT_CHECKED",
            "statement_description": "SQ *HARBOR & PINE",
            "card_payment_timeline": {
                "authorized_at": format_ms(plan.created_ms),
                "captured_at": format_ms(plan.created_ms + 400),
            },
        }
    else:
        tendered = -(-plan.amount // 500) * 500
        doc["cash_details"] = {
            "buyer_supplied_money": money(tendered),
            "change_back_money": money(tendered - plan.amount),
        }
    return doc


def refund_doc(
    *,
    refund_id: str,
    payment: dict[str, Any],
    return_order_id: str,
    amount: int,
    created_ms: int,
    updated_ms: int,
    completed: bool,
) -> dict[str, Any]:
    """A PaymentRefund; card refunds give back part of the processing fee once completed."""
    doc: dict[str, Any] = {
        "id": refund_id,
        "status": "COMPLETED" if completed else "PENDING",
        "location_id": payment["location_id"],
        "destination_type": payment["source_type"],
        "amount_money": money(amount),
        "payment_id": payment["id"],
        "order_id": return_order_id,
        "reason": "Returned goods",
        "created_at": format_ms(created_ms),
        "updated_at": format_ms(updated_ms),
    }
    if payment.get("team_member_id"):
        doc["team_member_id"] = payment["team_member_id"]  # who gave the money back
    if completed and payment["source_type"] == "CARD":
        doc["processing_fee"] = [
            {
                "effective_at": format_ms(updated_ms),
                "type": "INITIAL",
                "amount_money": money(-((amount * 26 + 500) // 1000)),
            }
        ]
    return doc
