import pytest
from django.core.exceptions import ValidationError

from accounts.validators import validate_uscc


@pytest.mark.parametrize("code", ["91350100M000100Y43", "911100001000044477", "91110108MA01R2QF9G", "91350100m000100y43"])
def test_valid_unified_social_credit_codes_pass(code):
    validate_uscc(code)


def test_wrong_check_character_says_which_is_right():
    with pytest.raises(ValidationError, match="should be 3, not 4"):
        validate_uscc("91350100M000100Y44")


@pytest.mark.parametrize(("code", "fragment"), [("9135010", "18 characters"), ("91350100M000100I43", "cannot contain I")])
def test_malformed_codes_are_explained(code, fragment):
    with pytest.raises(ValidationError, match=fragment):
        validate_uscc(code)
