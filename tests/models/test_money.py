from decimal import Decimal

import pytest

from models.money import MoneyError, format_yuan, parse_yuan, split_by_percent, yuan_in_capitals


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("20000", 2_000_000),
        ("2万", 2_000_000),
        ("贰万元", 2_000_000),
        ("20,000.00", 2_000_000),
        ("￥1.5万元", 1_500_000),
        ("人民币壹万贰仟元整", 1_200_000),
        ("12345.6", 1_234_560),
        (8000, 800_000),
        (Decimal("0.01"), 1),
        (0.1, 10),
    ],
)
def test_parse_yuan_reads_what_people_write(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "12.345", "一万块", True, None, [1]])
def test_parse_yuan_refuses_non_amounts(text):
    with pytest.raises(MoneyError):
        parse_yuan(text)


def test_format_and_capitals():
    assert format_yuan(1_234_567) == "12,345.67"
    assert format_yuan(-50, unit=True) == "-0.50元"
    assert yuan_in_capitals(1_200_000) == "人民币壹万贰仟元整"
    assert yuan_in_capitals(1_234_567) == "人民币壹万贰仟叁佰肆拾伍元陆角柒分"


def test_split_by_percent_pays_every_fen():
    parts = split_by_percent(1_000_101, [Decimal(50), Decimal(30), Decimal(20)])
    assert parts == [500_051, 300_030, 200_020]
    assert sum(parts) == 1_000_101
    with pytest.raises(MoneyError):
        split_by_percent(100, [Decimal(50), Decimal(40)])


@pytest.mark.parametrize(
    "text", ["1" * 5000, "9" * 16, "1" * 12 + "万", "贰" * 3000, "²", "١٢", "1e309", "NaN"]
)
def test_parse_yuan_overlong_or_foreign_digits_is_a_money_error(text):
    with pytest.raises(MoneyError):
        parse_yuan(text)


def test_parse_yuan_number_beyond_any_grant_is_a_money_error():
    with pytest.raises(MoneyError, match="过大"):
        parse_yuan(10**20)
    assert parse_yuan("999999999999999") == 99_999_999_999_999_900
