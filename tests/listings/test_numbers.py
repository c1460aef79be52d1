"""Numbers as people type them. The real numbers below are published ones (CNIPA, EPO): their check
characters were recomputed here and match what the offices printed."""

import pytest

from rights.numbers import (
    NumberError,
    cn_check_character,
    keys_for_record,
    luhn_check_digit,
    parse_candidates,
    parse_number,
    search_keys,
)

# Real CN invention application numbers as cited in published patents and on CNIPA grants.
REAL_CN_APPLICATIONS = [
    "201210379921.4", "200910236697.1", "201010176312.X", "201210264230.X", "201210384676.6",
    "200910133630.5", "200710188318.7", "201110457686.3", "202011472880.4", "202111118032.8",
    "202310397744.0", "201410026192.3", "201210442457.9", "202210110472.7",
]
# Real EP application numbers (priority claims of published US patents).
REAL_EP_APPLICATIONS = ["06009468.7", "09305284.3", "09175290.7", "01306315.1"]


@pytest.mark.parametrize("number", REAL_CN_APPLICATIONS)
def test_real_cn_application_numbers_have_the_check_character_we_compute(number):
    digits, check = number.split(".")
    assert cn_check_character(digits) == check
    parsed = parse_number(number)
    assert (parsed.jurisdiction, parsed.number_type, parsed.normalized) == ("CN", "application", number)
    assert parsed.kind == "invention"


def test_real_old_eight_digit_cn_application_number_uses_weights_two_to_nine():
    # 03137492.1: a 2003 invention application (old form, type digit 1)
    assert cn_check_character("03137492") == "1"
    readings = parse_candidates("03137492.1")
    assert readings[0].jurisdiction == "CN"
    assert readings[0].kind == "invention"


@pytest.mark.parametrize("number", REAL_EP_APPLICATIONS)
def test_real_ep_application_numbers_pass_luhn(number):
    digits, check = number.split(".")
    assert luhn_check_digit(digits) == check
    assert parse_number("EP " + number).normalized == number


@pytest.mark.parametrize("typed", [
    "201210379921.4", "ZL201210379921.4", "ZL 2012 1 0379921.4", "CN 201210379921.4", "201210379921 .4",
    "ｚｌ２０１２１０３７９９２１．４", "201210379921",
])
def test_cn_application_typed_in_many_forms_normalises_to_one(typed):
    assert parse_number(typed).normalized == "201210379921.4"


def test_lowercase_x_check_character_is_accepted():
    assert parse_number("zl201010176312x").normalized == "201010176312.X"


def test_missing_check_character_is_computed_and_flagged():
    parsed = parse_number("201210379921")
    assert parsed.check == "4"
    assert parsed.check_added


def test_wrong_cn_check_character_says_which_one_is_right():
    with pytest.raises(NumberError, match="should be 4, not 5") as err:
        parse_number("ZL201210379921.5")
    assert err.value.expected == "4"


def test_wrong_x_check_character_is_reported():
    with pytest.raises(NumberError, match="should be X, not 0"):
        parse_number("201010176312.0")


def test_wrong_ep_check_digit_says_which_one_is_right():
    with pytest.raises(NumberError, match="should be 7, not 3"):
        parse_number("EP 06 009 468.3")


@pytest.mark.parametrize(("number", "kind"), [
    ("201920123456", "utility_model"), ("201930123456", "design"), ("201980123456", "invention"),
    ("201990123456", "utility_model"),
])
def test_type_digit_gives_the_kind(number, kind):
    assert parse_number(number).kind == kind


def test_type_digit_must_be_one_of_the_five():
    with pytest.raises(NumberError, match="type digit"):
        parse_number("201950123456")


def test_type_digit_must_agree_with_the_chosen_kind():
    with pytest.raises(NumberError, match="Utility model"):
        parse_number("201920123456", kind="invention")


def test_impossible_year_is_explained():
    with pytest.raises(NumberError, match="filing year"):
        parse_number("ZL209910123456")


@pytest.mark.parametrize(("typed", "normalized", "kind"), [
    ("CN116455754B", "CN116455754B", "invention"),  # grant of 202310397744.0
    ("CN112330675B", "CN112330675B", "invention"),  # grant of 202011472880.4
    ("cn 1234567 a", "CN1234567A", "invention"),
    ("CN212345678U", "CN212345678U", "utility_model"),
    ("CN306123456S", "CN306123456S", "design"),
])
def test_cn_publication_numbers(typed, normalized, kind):
    parsed = parse_number(typed)
    assert (parsed.number_type, parsed.normalized, parsed.kind) == ("publication", normalized, kind)


def test_cn_publication_kind_code_must_agree_with_first_digit():
    with pytest.raises(NumberError, match="kind code B"):
        parse_number("CN216455754B")


@pytest.mark.parametrize(("typed", "normalized", "number_type"), [
    ("US 6,285,999 B1", "6285999", "registration"),  # Page, "Method for node ranking in a linked database"
    ("US6285999", "6285999", "registration"),
    ("US 10,123,456 B2", "10123456", "registration"),
    ("D504,889", "D504889", "registration"),
    ("US RE45,678 E", "RE45678", "registration"),
    ("09/004,827", "09/004827", "application"),  # the application of US 6,285,999
    ("16/123,456", "16/123456", "application"),
    ("US 2019/0123456 A1", "US20190123456A1", "publication"),
])
def test_us_numbers(typed, normalized, number_type):
    parsed = parse_number(typed)
    assert (parsed.jurisdiction, parsed.normalized, parsed.number_type) == ("US", normalized, number_type)


def test_us_design_patent_is_a_design():
    assert parse_number("USD504889S").kind == "design"


def test_ep_publication_numbers():
    parsed = parse_number("EP 1 234 567 B1")
    assert (parsed.jurisdiction, parsed.number_type, parsed.normalized) == ("EP", "publication", "EP1234567B1")
    with pytest.raises(NumberError, match="kind code"):
        parse_number("EP1234567B7")


@pytest.mark.parametrize(("typed", "jurisdiction", "normalized"), [
    ("第12345678号", "CN", "12345678"),
    ("CN 7654321", "CN", "7654321"),
    ("97123456", "US", "97123456"),
    ("US 1,234,567", "US", "1234567"),
    ("018123456", "EP", "018123456"),
    ("EUTM 18123456", "EP", "018123456"),
])
def test_trademark_numbers(typed, jurisdiction, normalized):
    readings = parse_candidates(typed, jurisdiction=jurisdiction, kind="trademark")
    assert any(r.normalized == normalized and r.jurisdiction == jurisdiction for r in readings)


def test_trademark_number_too_long_is_explained():
    with pytest.raises(NumberError, match="9"):
        parse_candidates("1234567890", kind="trademark")


@pytest.mark.parametrize("typed", ["hello", "", "ZL12", "201210379921.44", "CN 2012-10379921.4$"])
def test_garbage_gets_a_message_not_a_crash(typed):
    with pytest.raises(NumberError) as err:
        parse_number(typed)
    assert err.value.message


def test_search_keys_match_record_keys_in_every_typed_form():
    record_keys = keys_for_record(jurisdiction="CN", kind="invention", number="202310397744.0",
                                  publication_number="CN116455754B")
    for typed in ("ZL 2023 1 0397744.0", "202310397744.0", "CN116455754B", "CN 116455754"):
        assert set(search_keys(typed)) & set(record_keys), typed


def test_us_record_keys_cover_application_and_grant():
    record_keys = keys_for_record(jurisdiction="US", kind="invention", number="6285999",
                                  application_number="09/004827", publication_number="US6285999B1")
    for typed in ("US 6,285,999", "6285999", "09/004,827"):
        assert set(search_keys(typed)) & set(record_keys), typed


def test_words_are_not_numbers():
    assert search_keys("无线充电") == []
    assert search_keys("battery") == []
