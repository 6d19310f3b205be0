"""Money is integer fen (分), never a float.

``parse_yuan`` reads what people write in forms and spreadsheets — ``20000``, ``2万``, ``贰万元``,
``20,000.00``, ``¥1.5万`` — and returns fen. ``format_yuan`` and ``yuan_in_capitals`` print it back
for documents (``20,000.00`` and ``人民币贰万元整``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Fen = int

_STRIP = re.compile(r"[\s,，¥￥]|人民币|RMB|CNY", re.IGNORECASE)
_WAN = re.compile(r"^(?P<num>[0-9]{1,11}(?:\.[0-9]{1,6})?)万元?$")
_PLAIN = re.compile(r"^(?P<num>-?[0-9]{1,15}(?:\.[0-9]{1,2})?)元?$")
_LONGEST = 40  # characters of an amount as written; longer is not an amount
MAX_YUAN = 10**15  # far above any grant, far below what a BigInteger of fen holds
_CAPITAL_CHARS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿一二三四五六七八九十百千两〇元整正角分圆")


class MoneyError(ValueError):
    """A text that is not an amount of money (or has more than two decimals)."""


def parse_yuan(value: object) -> Fen:
    """Read an amount in yuan, as people write it, and return integer fen."""
    if isinstance(value, bool):
        raise MoneyError(f"不是金额 / not an amount: {value!r}")
    if isinstance(value, int):
        return _decimal_to_fen(Decimal(value), value)
    if isinstance(value, Decimal):
        return _decimal_to_fen(value, value)
    if isinstance(value, float):
        # A float reaches us only from YAML or Excel; its shortest repr is what the person typed.
        return _decimal_to_fen(Decimal(repr(value)), value)
    if not isinstance(value, str):
        raise MoneyError(f"不是金额 / not an amount: {value!r}")
    text = _STRIP.sub("", value)
    if not text:
        raise MoneyError("金额为空 / the amount is empty")
    if len(text) > _LONGEST:
        raise MoneyError(f"金额过长，无法识别 / too long to be an amount ({len(text)} characters)")
    if m := _PLAIN.match(text):
        return _decimal_to_fen(Decimal(m["num"]), value)
    if m := _WAN.match(text):
        return _decimal_to_fen(Decimal(m["num"]) * 10000, value)
    if set(text) <= _CAPITAL_CHARS | set("0123456789."):
        import cn2an  # compiles its patterns on import (0.5 s): only for amounts in capitals

        try:
            number = cn2an.cn2an(text.replace("整", "").replace("正", "").replace("圆", "元"), "smart")
        except (ValueError, KeyError) as exc:
            raise MoneyError(f"无法识别的金额 / not an amount: {value!r}") from exc
        return _decimal_to_fen(Decimal(str(number)), value)
    raise MoneyError(f"无法识别的金额 / not an amount: {value!r}")


def _decimal_to_fen(amount: Decimal, original: object) -> Fen:
    if amount.is_finite() and abs(amount) >= MAX_YUAN:
        raise MoneyError(f"金额过大 / the amount is too large: {str(original)[:20]!r}")
    try:
        fen = amount * 100
    except InvalidOperation as exc:  # pragma: no cover - Decimal arithmetic on a finite value
        raise MoneyError(f"无法识别的金额 / not an amount: {original!r}") from exc
    if not fen.is_finite() or fen != fen.to_integral_value():
        raise MoneyError(f"金额最多两位小数 / at most two decimals (fen): {original!r}")
    return int(fen)


def format_yuan(fen: Fen, *, unit: bool = False) -> str:
    """``1234500`` → ``12,345.00`` (``12,345.00元`` with ``unit``)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    text = f"{sign}{yuan:,}.{cents:02d}"
    return f"{text}元" if unit else text


def yuan_in_capitals(fen: Fen) -> str:
    """``1200000`` → ``人民币壹万贰仟元整`` (as on agreements and payment notices)."""
    import cn2an

    amount = Decimal(fen) / 100
    text: str = cn2an.an2cn(str(amount.quantize(Decimal("0.01"))), "rmb")
    return f"人民币{text}"


def split_by_percent(total: Fen, percents: list[Decimal]) -> list[Fen]:
    """Split ``total`` into parts by percentages that add up to 100, exactly.

    Each part is rounded half-up to the fen; the last part takes the remainder so that the parts
    always add up to ``total`` (a tranche plan of 50/30/20 on 10,001.01 yuan pays every fen).
    """
    if sum(percents, Decimal(0)) != 100:
        raise MoneyError(f"百分比之和须为100 / percentages must add up to 100: {percents}")
    parts = [
        int((Decimal(total) * p / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for p in percents[:-1]
    ]
    parts.append(total - sum(parts))
    return parts
