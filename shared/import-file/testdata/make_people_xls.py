"""Writes people.xls with xlwt 1.3.0 (PyPI), the writer behind many HR exports' XLS files:
`pip install xlwt==1.3.0 && python3 make_people_xls.py`. The unit tests of roster-import-file
read the file it wrote; it is committed so they need no Python."""
import datetime

import xlwt

book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("Mitarbeiter")
rows = [
    ["Vorname", "Nachname", "E-Mail", "Telefon", "CSV_EHBO"],
    ["Jürgen", "Groß", "juergen@example.com", "+49 30 1234567", 1],
    ["Zoë", "Lefèvre", "zoe@example.com", "", 0],
    ["李", "小龙", "li@example.com", "", xlwt.Formula("1-1")],
]
for r, row in enumerate(rows):
    for c, value in enumerate(row):
        sheet.write(r, c, value)
sheet.write(5, 0, datetime.date(2026, 11, 22), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
book.add_sheet("Leer").write(0, 0, "other sheet")
book.save("people.xls")
