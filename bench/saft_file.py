"""A generated SAF-T Cash Register file (Skatteetaten's XSD v1.00): `registers` tills,
`days` business days each, `per_day` cash transactions a day, one Z report per till and
day whose totals are the day's transactions (so every Z report balances and its sales split
per article group). Written as it goes: a file of any size takes no memory to make.

    .venv/bin/python bench/saft_file.py OUT.xml --registers 5 --days 365 --per-day 8
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CENT = Decimal("0.01")
# (artGroupID, basicDesc, predefined, VAT code, rate, prices)
GROUPS = [
    ("100", "Mat", "04006", "2", Decimal("15"), ["32.80", "25.80", "27.80", "49.90"]),
    ("300", "Øl", "04007", "3", Decimal("25"), ["89.00", "99.00"]),
    ("400", "Annen drikke", "04012", "3", Decimal("25"), ["34.00", "42.00"]),
]
VAT = {"2": ("VAT 15 %", Decimal("15"), "31"), "3": ("VAT 25 %", Decimal("25"), "3")}
PAYMENTS = [
    ("CASH", "12001", "Kontant"),
    ("DEBCARD", "12002", "Bankkort"),
    ("VIPPS", "12011", "Vipps"),
]

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<auditfile xmlns="urn:StandardAuditFile-Taxation-CashRegister:NO">
<header><fiscalYear>{year}</fiscalYear><startDate>{start}</startDate><endDate>{end}</endDate>
<curCode>NOK</curCode><dateCreated>{end}</dateCreated><timeCreated>23:59:00</timeCreated>
<softwareDesc>Bench</softwareDesc><softwareVersion>1.0</softwareVersion>
<softwareCompanyName>Backoffice bench</softwareCompanyName><auditfileVersion>1.0</auditfileVersion>
<userID>1</userID></header>
<company><companyIdent>999999999</companyIdent><companyName>Bench AS</companyName>
<taxRegistrationCountry>NO</taxRegistrationCountry><taxRegIdent>999999999MVA</taxRegIdent>
<streetAddress><streetname>Veien</streetname><number>1</number><city>Oslo</city><postalCode>0150</postalCode><country>NO</country></streetAddress>
<vatCodeDetails>{vat}</vatCodeDetails>
<periods><period><periodNumber>1</periodNumber><startDatePeriod>{start}</startDatePeriod><endDatePeriod>{end}</endDatePeriod></period></periods>
<employees><employee><empID>1</empID><dateOfEntry>{start}</dateOfEntry><timeOfEntry>08:00:00</timeOfEntry><firstName>Kari</firstName><surName>Nordmann</surName></employee></employees>
<articles>{articles}</articles>
<basics>{basics}</basics>
<location><name>Bench</name>
"""


def _m(value: Decimal) -> str:
    return f"{value:.2f}"


def _vat(gross: Decimal, rate: Decimal) -> Decimal:
    return (gross * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _head(start: dt.date, end: dt.date) -> str:
    vat = "".join(
        f"<vatCodeDetail><vatCode>{c}</vatCode><dateOfEntry>{start}</dateOfEntry><vatDesc>{d}</vatDesc>"
        f"<standardVatCode>{s}</standardVatCode></vatCodeDetail>"
        for c, (d, _r, s) in VAT.items()
    )
    articles = "".join(
        f"<article><artID>{g}1</artID><dateOfEntry>{start}</dateOfEntry><artGroupID>{g}</artGroupID>"
        f"<artDesc>{d}</artDesc></article>"
        for g, d, *_ in GROUPS
    )
    basics = "".join(
        f"<basic><basicType>04</basicType><basicID>{g}</basicID><predefinedBasicID>{p}</predefinedBasicID>"
        f"<basicDesc>{d}</basicDesc></basic>"
        for g, d, p, *_ in GROUPS
    )
    basics += "<basic><basicType>11</basicType><basicID>CASHSAL</basicID><predefinedBasicID>11001</predefinedBasicID><basicDesc>Kontantsalg</basicDesc></basic>"
    basics += "".join(
        f"<basic><basicType>12</basicType><basicID>{c}</basicID><predefinedBasicID>{p}</predefinedBasicID>"
        f"<basicDesc>{d}</basicDesc></basic>"
        for c, p, d in PAYMENTS
    )
    basics += "<basic><basicType>13</basicType><basicID>ZREP</basicID><predefinedBasicID>13009</predefinedBasicID><basicDesc>Z-rapport</basicDesc></basic>"
    return HEAD.format(
        year=start.year, start=start, end=end, vat=vat, articles=articles, basics=basics
    )


def _transaction(rnd: random.Random, nr: int, day: dt.date, totals: dict) -> str:
    lines = []
    gross_total = vat_total = Decimal(0)
    per_code: dict[str, list[Decimal]] = {}
    for line_id in range(1, rnd.randint(1, 4) + 1):
        group, _desc, _p, code, rate, prices = rnd.choice(GROUPS)
        qnt = rnd.randint(1, 3)
        gross = Decimal(rnd.choice(prices)) * qnt
        vat = _vat(gross, rate)
        gross_total += gross
        vat_total += vat
        per_code.setdefault(code, [Decimal(0), Decimal(0)])
        per_code[code][0] += gross - vat
        per_code[code][1] += vat
        g = totals["groups"].setdefault((code, group), [Decimal(0), Decimal(0), 0])
        g[0] += gross
        g[1] += vat
        g[2] += qnt
        lines.append(
            f"<ctLine><nr>{nr}</nr><lineID>{line_id}</lineID><lineType>SAL</lineType>"
            f"<artGroupID>{group}</artGroupID><artID>{group}1</artID><qnt>{qnt}</qnt>"
            f"<lineAmntIn>{_m(gross)}</lineAmntIn><lineAmntEx>{_m(gross - vat)}</lineAmntEx>"
            f"<amntTp>C</amntTp><empID>1</empID><lineDate>{day}</lineDate><lineTime>12:00:00</lineTime>"
            f"<vat><vatCode>{code}</vatCode><vatPerc>{rate:.2f}</vatPerc><vatAmnt>{_m(vat)}</vatAmnt>"
            f"<vatAmntTp>C</vatAmntTp><vatBasAmnt>{_m(gross - vat)}</vatBasAmnt></vat></ctLine>"
        )
    method = rnd.choice(PAYMENTS)[0]
    rounding = Decimal(0)
    paid = gross_total
    if method == "CASH":
        paid = gross_total.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        rounding = paid - gross_total
    totals["rounding"] += rounding
    totals["payments"][method] = totals["payments"].get(method, Decimal(0)) + paid
    totals["receipts"] += 1
    vat_blocks = "".join(
        f"<vat><vatCode>{c}</vatCode><vatPerc>{VAT[c][1]:.2f}</vatPerc><vatAmnt>{_m(v)}</vatAmnt>"
        f"<vatAmntTp>C</vatAmntTp><vatBasAmnt>{_m(n)}</vatBasAmnt></vat>"
        for c, (n, v) in sorted(per_code.items())
    )
    return (
        f"<cashtransaction><nr>{nr}</nr><transID>{nr}</transID><transType>CASHSAL</transType>"
        f"<transAmntIn>{_m(gross_total)}</transAmntIn><transAmntEx>{_m(gross_total - vat_total)}</transAmntEx>"
        f"<amntTp>C</amntTp><empID>1</empID><periodNumber>1</periodNumber><transDate>{day}</transDate>"
        f"<transTime>12:00:00</transTime>{''.join(lines)}{vat_blocks}"
        f"<rounding><roundingAmnt>{_m(rounding)}</roundingAmnt></rounding>"
        f"<payment><paymentType>{method}</paymentType><paidAmnt>{_m(paid)}</paidAmnt><empID>1</empID>"
        f"<curCode>NOK</curCode><exchRt>1.000000</exchRt></payment>"
        f"<signature>c2lnbmF0dXJl</signature><keyVersion>1</keyVersion><receiptNum>{nr % 999 + 1}</receiptNum>"
        f"<voidTransaction>false</voidTransaction><trainingID>false</trainingID></cashtransaction>\n"
    )


def _z_event(event_id: int, z: int, register: str, day: dt.date, t: dict) -> str:
    by_code: dict[str, list[Decimal]] = {}
    for (code, _group), (gross, vat, _q) in t["groups"].items():
        entry = by_code.setdefault(code, [Decimal(0), Decimal(0)])
        entry[0] += gross
        entry[1] += vat
    total = sum((g for g, _v in by_code.values()), Decimal(0))
    art = "".join(
        f"<reportArtGroup><artGroupID>{group}</artGroupID><artGroupNum>{q}</artGroupNum>"
        f"<artGroupAmnt>{_m(g)}</artGroupAmnt></reportArtGroup>"
        for (_c, group), (g, _v, q) in sorted(t["groups"].items())
    )
    pay = "".join(
        f"<reportPayment><paymentType>{m}</paymentType><paymentNum>1</paymentNum>"
        f"<paymentAmnt>{_m(a)}</paymentAmnt></reportPayment>"
        for m, a in sorted(t["payments"].items())
    )
    vat = "".join(
        f"<reportCashSaleVat><vatCode>{c}</vatCode><vatPerc>{VAT[c][1]:.2f}</vatPerc>"
        f"<cashSaleAmnt>{_m(g - v)}</cashSaleAmnt><vatAmnt>{_m(v)}</vatAmnt><vatAmntTp>C</vatAmntTp></reportCashSaleVat>"
        for c, (g, v) in sorted(by_code.items())
    )
    zero = "".join(
        f"<{n}>0</{n}><{a}>0.00</{a}>"
        for n, a in (
            ("reportReceiptCopyNum", "reportReceiptCopyAmnt"),
            ("reportReceiptProformaNum", "reportReceiptProformaAmnt"),
            ("reportReturnNum", "reportReturnAmnt"),
            ("reportDiscountNum", "reportDiscountAmnt"),
            ("reportVoidTransNum", "reportVoidTransAmnt"),
        )
    )
    return (
        f"<event><eventID>{event_id}</eventID><eventType>ZREP</eventType><empID>1</empID>"
        f"<eventDate>{day}</eventDate><eventTime>23:50:00</eventTime><eventReport>"
        f"<reportID>{z}</reportID><reportType>Z report</reportType><companyIdent>999999999</companyIdent>"
        f"<companyName>Bench AS</companyName><reportDate>{day}</reportDate><reportTime>23:50:00</reportTime>"
        f"<registerID>{register}</registerID><reportTotalCashSales><totalCashSaleAmnt>{_m(total)}</totalCashSaleAmnt>"
        f"</reportTotalCashSales><reportArtGroups>{art}</reportArtGroups><reportPayments>{pay}</reportPayments>"
        f"<reportCashSalesVat>{vat}</reportCashSalesVat><reportOpeningChangeFloat>0.00</reportOpeningChangeFloat>"
        f"<reportReceiptNum>{t['receipts']}</reportReceiptNum><reportOpenCashBoxNum>0</reportOpenCashBoxNum>"
        f"{zero}<reportCorrLines><reportCorrLine><corrLineType>None</corrLineType><corrLineNum>0</corrLineNum>"
        f"<corrLineAmnt>0.00</corrLineAmnt></reportCorrLine></reportCorrLines>"
        f"<reportPriceInquiries><reportPriceInquiry><priceInquiryGroup>100</priceInquiryGroup>"
        f"<priceInquiryNum>0</priceInquiryNum><priceInquiryAmnt>0.00</priceInquiryAmnt></reportPriceInquiry></reportPriceInquiries>"
        f"<reportOtherCorrs><reportOtherCorr><otherCorrType>None</otherCorrType><otherCorrNum>0</otherCorrNum>"
        f"<otherCorrAmnt>0.00</otherCorrAmnt></reportOtherCorr></reportOtherCorrs>"
        f"<reportReceiptDeliveryNum>0</reportReceiptDeliveryNum><reportReceiptDeliveryAmnt>0.00</reportReceiptDeliveryAmnt>"
        f"<reportTrainingNum>0</reportTrainingNum><reportTrainingAmnt>0.00</reportTrainingAmnt>"
        f"<reportGrandTotalSales>{_m(total)}</reportGrandTotalSales><reportGrandTotalReturn>0.00</reportGrandTotalReturn>"
        f"<reportGrandTotalSalesNet>{_m(total)}</reportGrandTotalSalesNet></eventReport></event>\n"
    )


def generate(
    path: Path,
    *,
    registers: int = 5,
    days: int = 365,
    per_day: int = 8,
    start: dt.date = dt.date(2025, 1, 1),
    seed: int = 16,
) -> Path:
    """Write the file; returns its path. Transactions follow their Z reports' events in
    each register, as the XSD orders them."""
    rnd = random.Random(seed)
    end = start + dt.timedelta(days=days - 1)
    with open(path, "w", encoding="utf-8") as out:
        out.write(_head(start, end))
        nr = 0
        for r in range(1, registers + 1):
            register = f"KASSE-{r}"
            out.write(f"<cashregister><registerID>{register}</registerID>\n")
            # Events first (the XSD's order), so each day's transactions are made twice
            # from the same seed: once for the Z totals, once written out.
            state = rnd.getstate()
            for d in range(days):
                day = start + dt.timedelta(days=d)
                totals = {"groups": {}, "payments": {}, "rounding": Decimal(0), "receipts": 0}
                for _ in range(per_day):
                    _transaction(rnd, 0, day, totals)
                out.write(_z_event(r * 100000 + d, 1000 + d, register, day, totals))
            rnd.setstate(state)
            for d in range(days):
                day = start + dt.timedelta(days=d)
                totals = {"groups": {}, "payments": {}, "rounding": Decimal(0), "receipts": 0}
                for _ in range(per_day):
                    nr += 1
                    out.write(_transaction(rnd, nr, day, totals))
            out.write("</cashregister>\n")
        out.write("</location></company></auditfile>\n")
    return Path(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--registers", type=int, default=5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=8)
    args = parser.parse_args()
    generate(Path(args.out), registers=args.registers, days=args.days, per_day=args.per_day)
