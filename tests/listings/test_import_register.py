import json

import pytest
from django.core.management import CommandError, call_command

from listings.models import RegisterRecord
from rights.registry import get_register

CSV = """jurisdiction,kind,number,publication_number,title,owner_name,filing_date,grant_date,legal_status,renewal_paid_through,classes
CN,invention,ZL 2012 1 0379921.4,CN103000000B,一种图像处理方法,清源大学,2012-10-09,2015-01-01,valid,2027-10-09,G06T 7/00
CN,trademark,第12345678号,,清源智芯,清源大学,2014-01-01,2015-02-14,valid,,9;42
EP,invention,EP 06 009 468.7,EP1850000B1,Method for X,Helios GmbH,2006-05-08,2010-01-01,valid,2026-05-08,H04L 9/32
US,invention,"US 6,285,999 B1",,Method for node ranking,Stanford,1998-01-09,2001-09-04,expired,,G06F 17/30
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_import_normalises_numbers_and_computes_expiry(db, tmp_path):
    call_command("import_register", write(tmp_path, "r.csv", CSV))
    cn = RegisterRecord.objects.get(jurisdiction="CN", kind="invention")
    assert cn.number == "201210379921.4"
    assert str(cn.expiry_date) == "2032-10-09"
    tm = RegisterRecord.objects.get(kind="trademark")
    assert (tm.number, tm.classes, str(tm.expiry_date)) == ("12345678", ["09", "42"], "2025-02-14")
    assert RegisterRecord.objects.get(jurisdiction="EP").number == "06009468.7"
    assert RegisterRecord.objects.get(jurisdiction="US").number == "6285999"


def test_import_is_an_upsert(db, tmp_path):
    path = write(tmp_path, "r.csv", CSV)
    call_command("import_register", path)
    call_command("import_register", path.replace("r.csv", "r.csv"))
    assert RegisterRecord.objects.count() == 4


def test_bad_rows_are_reported_by_row_and_nothing_is_written(db, tmp_path, capsys):
    rows = [
        {"jurisdiction": "CN", "kind": "invention", "number": "201210379921.5", "title": "x", "owner_name": "y"},
        {"jurisdiction": "CN", "kind": "trademark", "number": "1234", "title": "x", "owner_name": "y", "classes": "46"},
        {"jurisdiction": "CN", "kind": "invention", "number": "201210379921.4", "title": "ok", "owner_name": "y",
         "filing_date": "09/10/2012"},
        {"jurisdiction": "CN", "kind": "invention", "number": "201210384676.6", "title": "ok", "owner_name": "y"},
    ]
    with pytest.raises(CommandError, match="3 of 4 rows"):
        call_command("import_register", write(tmp_path, "r.json", json.dumps(rows)))
    err = capsys.readouterr().err
    assert "row 1: number: The check character of 201210379921 should be 4, not 5" in err
    assert "row 2: Nice classes are 1 to 45" in err
    assert "row 3: filing_date must be a date" in err
    assert not RegisterRecord.objects.exists()
    call_command("import_register", write(tmp_path, "r.json", json.dumps(rows)), "--skip-invalid")
    assert RegisterRecord.objects.count() == 1


def test_register_lookup_finds_a_right_by_any_typed_form(db, tmp_path):
    call_command("import_register", write(tmp_path, "r.csv", CSV))
    register = get_register()
    for typed in ("ZL201210379921.4", "201210379921", "CN103000000B", "cn 103000000"):
        result = register.lookup(typed)
        assert result.found, typed
        assert result.record.title == "一种图像处理方法"
    assert register.lookup("第12345678号").record.kind == "trademark"
    assert register.lookup("EP 06 009 468.7").found
    missing = register.lookup("201210384676.6")
    assert not missing.found
    assert "register has no right" in missing.error
    assert "should be 4" in register.lookup("201210379921.7").error
