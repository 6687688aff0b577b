"""Converting one JSON value to a column's type, as a field of COPY text.

Each conversion also checks the value against what its PostgreSQL column can hold (INTEGER,
BIGINT, NUMERIC's digits): a value out of range raises `InvalidValue`, so its record is
quarantined with the reason instead of failing the whole page in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from possync.load.copy_text import copy_text

INT_RANGE = (-(2**31), 2**31 - 1)
BIGINT_RANGE = (-(2**63), 2**63 - 1)
# PostgreSQL NUMERIC: up to 131,072 digits before the point and 16,383 after it.
NUMERIC_MAX_INTEGER_DIGITS = 131_072
NUMERIC_MAX_SCALE = 16_383


class InvalidValue(ValueError):
    pass


class OutOfRange(InvalidValue):
    """A well-formed value its column cannot hold; the message says the column's range."""


def plain_text(value: Any) -> str:
    """A value of a text column, unescaped."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return orjson.dumps(value).decode()


def _numeric(value: Any) -> Decimal | str:
    if type(value) is float:
        # JSON floats are always finite; repr is the exact decimal text the API sent.
        return repr(value)
    if isinstance(value, bool):
        raise InvalidValue("boolean is not a number")
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, str):
        result = Decimal(value.strip())
    else:
        raise InvalidValue("not a number")
    if not result.is_finite():
        raise InvalidValue("not a finite number")
    return check_numeric_range(result)


def check_numeric_range(value: Decimal) -> Decimal:
    """A NUMERIC column holds at most 131,072 digits before the point and 16,383 after."""
    exponent = value.as_tuple().exponent
    if value and value.adjusted() >= NUMERIC_MAX_INTEGER_DIGITS:
        raise OutOfRange("out of range for its NUMERIC column (too many digits)")
    if isinstance(exponent, int) and -exponent > NUMERIC_MAX_SCALE:
        raise OutOfRange("out of range for its NUMERIC column (too many decimals)")
    return value


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidValue("not a timestamp")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise InvalidValue("timestamp without a time zone")
    return parsed


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise InvalidValue("not a date")
    return date.fromisoformat(value[:10])


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidValue("not a boolean")


def _any_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidValue("boolean is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise InvalidValue("not an integer")


def _ranged(kind: str, low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        result = _any_integer(value)
        if not low <= result <= high:
            raise OutOfRange(f"out of range for its {kind} column ({low} to {high})")
        return result

    return convert


_int = _ranged("INTEGER", *INT_RANGE)
_bigint = _ranged("BIGINT", *BIGINT_RANGE)


# Each conversion gives the field in COPY text form (see possync.load.copy_text).
def _copy_text(value: Any) -> str:
    return copy_text(plain_text(value))


def _copy_numeric(value: Any) -> str:
    if type(value) is float:
        return repr(value)
    return str(_numeric(value))


def _copy_timestamp(value: Any) -> str:
    return _timestamp(value).isoformat()


def _copy_date(value: Any) -> str:
    return _date(value).isoformat()


def _copy_bool(value: Any) -> str:
    return "t" if _bool(value) else "f"


def _copy_int(value: Any) -> str:
    return str(_int(value))


def _copy_bigint(value: Any) -> str:
    return str(_bigint(value))


def _copy_jsonb(value: Any) -> str:
    return copy_text(orjson.dumps(value).decode())


CONVERTERS: dict[str, Callable[[Any], str]] = {
    "text": _copy_text,
    "numeric": _copy_numeric,
    "timestamptz": _copy_timestamp,
    "date": _copy_date,
    "bool": _copy_bool,
    "bigint": _copy_bigint,
    "int": _copy_int,
    "jsonb": _copy_jsonb,
}
