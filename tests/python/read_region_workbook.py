"""Reads a `gridsim region` workbook with openpyxl, as an analyst's tool
would, and checks its 'By year' sheet against the CSV of the same run:
every P10/P50/P90/central figure of every programme, metric and year."""

import csv
import sys

import openpyxl

xlsx, table = sys.argv[1], sys.argv[2]
wb = openpyxl.load_workbook(xlsx, read_only=True, data_only=True)
assert wb.sheetnames == ["Summary", "By year", "Archetypes", "Assumptions"], wb.sheetnames
rows = list(wb["By year"].iter_rows(values_only=True))
header = rows[0]
years = [str(h) for h in header[4:-1]]
assert header[:4] == ("Programme", "Figure", "Unit", "Statistic"), header
assert header[-1] == "Horizon"
sheet = {}
for r in rows[1:]:
    prog, label, unit, stat = r[:4]
    for y, v in zip(years + ["total"], r[4:]):
        sheet[(prog, label, y, stat)] = v

column = {"P10": "p10", "P50": "p50", "P90": "p90", "central": "central"}
n = 0
with open(table, newline="") as f:
    for row in csv.DictReader(f):
        for stat, col in column.items():
            want = float(row[col])
            got = sheet[(row["programme"], row["label"], row["year"], stat)]
            assert got == want or abs(got - want) <= 1e-12 * max(abs(want), 1.0), (row, stat, got)
            n += 1
assert n > 0
summary = [r for r in wb["Summary"].iter_rows(values_only=True)]
assert any(r and r[0] and "USD of investment" in str(r[0]) for r in summary), summary[:6]
print(f"{n} cells compared")
