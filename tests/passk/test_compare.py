"""The stdin/stdout judge: tokens, whitespace, numeric tolerance, exact mode, signatures."""

from __future__ import annotations

import pytest

from aitk.passk.compare import first_difference, same_output, same_tokens, signature


@pytest.mark.parametrize(
    "got, expected, same",
    [
        ("3\n", "3", True),
        ("1 2\n3", "1\n2 3\n\n", True),  # whitespace is only a separator
        ("1 2", "1 2 3", False),
        ("YES", "yes", False),  # case matters
        ("3.1415926", "3.141593", True),  # within 1e-6 absolute
        ("1000000.5", "1000000", True),  # within 1e-6 relative
        ("3.14", "3.141593", False),
        ("1e-7", "0", True),
        ("2.0", "2", True),  # a number written as a float still matches its integer
        ("100000000000000000001", "100000000000000000000", False),  # integers compare exactly
        ("+5 05", "5 5", True),
        ("nan", "nan", True),  # equal text
        ("inf", "1e309", False),  # not a number token, so text must be equal
        ("1_000", "1000", False),
        ("0x10", "16", False),
    ],
)
def test_same_output(got, expected, same):
    assert same_output(got, expected) is same


def test_exact_turns_the_tolerance_off():
    assert same_output("3.1415926", "3.141593") and not same_output("3.1415926", "3.141593", exact=True)
    assert not same_tokens("2.0", "2", exact=True) and same_tokens("2", "2", exact=True)
    assert same_output(" a  b\n", "a b", exact=True)  # whitespace still does not matter


def test_first_difference_names_the_token():
    assert first_difference("1 2 4", "1 2 3") == "token 3: got '4', expected '3'"
    assert first_difference("1 2", "1 2 3") == "2 tokens, expected 3"
    assert first_difference("x" * 40, "y") == "token 1: got 'xxxxxxxxxxxxxxxxx...', expected 'y'"


def test_signature_groups_outputs_the_judge_would_call_equal():
    assert signature("1 2\n3.0000001\n") == signature("1\n2 3")
    assert signature("+7") == signature("7")
    assert signature("3.15") != signature("3.14") and signature("a b") != signature("ab")
