#!/usr/bin/python3
"""Edits a downloaded 案件一覧ファイル the way a partner's spreadsheet program would, for the
report service's integration tests: openpyxl loads it, sets cells, and saves it again (its own
re-save: shared strings, styles and the hidden identity sheet as openpyxl writes them).

    edit_report_xlsx.py IN.xlsx OUT.xlsx EDITS.json

EDITS.json is a list of {"case": "0000123", "column": "施工金額", "value": V}: the row whose
案件番号 cell holds "case", the column by its header label. V is a string (written as text;
openpyxl makes "=..." a formula and "#N/A" an error value, as Excel would), a number, null
(cleared), or {"date": "2026-03-20"} (a real date cell, stored as a serial number).
"""

import datetime
import json
import sys

import openpyxl

SHEET = "案件一覧"


def main():
    source, target, edits_path = sys.argv[1:4]
    with open(edits_path, encoding="utf-8") as f:
        edits = json.load(f)
    book = openpyxl.load_workbook(source)
    sheet = book[SHEET]
    header_row, columns = None, {}
    for row in sheet.iter_rows():
        labels = {c.value: c.column for c in row if isinstance(c.value, str)}
        if "案件番号" in labels and "取次状況" in labels:
            header_row, columns = row[0].row, labels
            break
    if header_row is None:
        sys.exit("no header row")
    number_column = columns["案件番号"]
    rows = {}
    for r in range(header_row + 1, sheet.max_row + 1):
        value = sheet.cell(row=r, column=number_column).value
        if value is not None:
            rows[str(value)] = r
    for edit in edits:
        if edit["case"] not in rows:
            sys.exit("no row for case %s" % edit["case"])
        cell = sheet.cell(row=rows[edit["case"]], column=columns[edit["column"]])
        value = edit["value"]
        if isinstance(value, dict) and "date" in value:
            cell.value = datetime.datetime.strptime(value["date"], "%Y-%m-%d")
            cell.number_format = "yyyy/m/d"
        else:
            cell.value = value
    book.save(target)


if __name__ == "__main__":
    main()
