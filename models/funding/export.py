"""The funding decision as an Excel workbook (``grantflow funding show --xlsx FILE``): one row per
application with its amount and reason, then the pools and the reconciliation. Amounts are in yuan
as exact numbers with two decimals (written from integer fen, never a float sum)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from models.errors import InputError, Problem

HEADERS = (
    "申报编号",
    "项目名称",
    "申报单位",
    "组",
    "领域",
    "社区",
    "总排名",
    "组内排名",
    "得分",
    "申请金额（元）",
    "规则核定（元）",
    "资助金额（元）",
    "规则",
    "理由",
)


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def write_allocation_xlsx(report: dict[str, Any], path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "资助方案"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report["applications"]:
        sheet.append(
            [
                row["ref"],
                row["title"],
                row["organisation"],
                row["pool"],
                row["category"],
                row["community"],
                row["rank"],
                row["pool_rank"],
                Decimal(row["score"]) if row["score"] is not None else None,
                _yuan(row["requested_fen"]),
                _yuan(row["computed_fen"]),
                _yuan(row["amount_fen"]),
                row["rule"],
                row["explanation"],
            ]
        )
    for column in "JKL":
        for cell in sheet[column][1:]:
            cell.number_format = "#,##0.00"
    for cell in sheet["N"][1:]:
        cell.alignment = Alignment(wrap_text=True)
    sheet.column_dimensions["B"].width = 36
    sheet.column_dimensions["N"].width = 90
    pools = book.create_sheet("资金")
    pools.append(
        ["组", "名称", "预算（元）", "调入（元）", "资助（元）", "调出（元）", "退回（元）", "项目数"]
    )
    for pool in report["pools"]:
        pools.append(
            [
                pool["code"],
                pool["name"],
                _yuan(pool["budget_fen"]),
                _yuan(pool["received_fen"]),
                _yuan(pool["funded_fen"]),
                _yuan(pool["moved_fen"]),
                _yuan(pool["returned_fen"]),
                pool["projects"],
            ]
        )
    pools.append([])
    pools.append(["合计", "资金池", _yuan(report["pool_fen"])])
    pools.append(["", "资助", _yuan(report["funded_fen"])])
    pools.append(["", "退回", _yuan(report["returned_fen"])])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(path)
    except OSError as exc:
        raise InputError(
            Problem(str(path), "--xlsx", "无法写入文件", f"cannot write the file: {exc}")
        ) from None
    return path
