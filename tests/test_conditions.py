"""SPEC §3 "Conditions" and its decided edge cases, each hand-checked on a fit rule."""

from __future__ import annotations

import pytest

from support import score_rows

pytestmark = pytest.mark.usefixtures("engine")  # every engine (tests/conftest.py)


def holds(when, values, column="x"):  # type: ignore[no-untyped-def]
    """For each value: does a fit rule with condition ``when`` hold for a lead with it?"""
    model = {"fit": {"rules": [{"id": "r", "when": when, "points": 1}]}}
    leads = [{"lead_id": str(i), column: v} for i, v in enumerate(values)]
    rows = score_rows(model, leads)
    return [rows[str(i)]["rule:r"] == 1 for i in range(len(values))]


def test_string_tests_are_case_insensitive_after_trimming():
    values = ["Retail", " RETAIL\t", "retail\r\n", "retailer", "\u00a0retail"]
    assert holds({"x": " retail "}, values) == [True, True, True, False, False]


def test_missing_null_or_blank_fails_every_test_but_exists_false():
    values = [None, "", "  \t\n", "retail"]
    assert holds({"x": {"ne": "retail"}}, values) == [False, False, False, False]
    assert holds({"x": {"not_contains": "z"}}, values) == [False, False, False, True]
    assert holds({"x": {"exists": False}}, values) == [True, True, True, False]
    assert holds({"x": {"exists": True}}, values) == [False, False, False, True]


def test_not_negates_after_the_missing_value_rule():
    assert holds({"not": {"x": "retail"}}, [None, "retail", "energy"]) == [True, False, True]


def test_numeric_tests_fail_on_values_that_are_not_numbers():
    values = [" 50 ", "1e3", "NaN", "1,5", "75%", "0x10", "1_000", "inf", ".5", "5."]
    assert holds({"x": {"gte": 0.5}}, values) == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
    ]


def test_numeric_columns_compare_numerically_and_nan_is_missing():
    assert holds({"x": {"gt": 10}}, [11.0, 10.0, float("nan"), None]) == [True, False, False, False]
    assert holds({"x": {"exists": False}}, [float("nan"), 1.0]) == [True, False]


def test_between_is_inclusive():
    assert holds({"x": {"between": [10, 20]}}, ["10", "20", "9.999", "20.0001"]) == [
        True,
        True,
        False,
        False,
    ]


def test_equality_is_numeric_when_both_sides_are_numbers_else_text():
    assert holds({"x": 50}, ["50", "50.0", " 5e1", "fifty"]) == [True, True, True, False]
    assert holds({"x": {"in": [50, "abc"]}}, ["50.00", "ABC ", "x"]) == [True, True, False]
    assert holds({"x": {"not_in": [50]}}, ["51", "50", None]) == [True, False, False]


def test_text_tests_read_numbers_in_their_shortest_form():
    assert holds({"x": {"ends_with": ".0"}}, ["50.0"]) == [True]  # CSV-like text
    assert holds({"x": {"ends_with": ".0"}}, [50.0]) == [False]  # typed number: "50"
    assert holds({"x": {"starts_with": "50."}}, [50.5]) == [True]


def test_identifier_columns_are_text_for_equality_but_numbers_for_ranges():
    postal = ["08001", "8001"]
    assert holds({"postal_code": "08001"}, postal, "postal_code") == [True, False]
    assert holds({"postal_code": 8001}, postal, "postal_code") == [False, True]
    assert holds({"postal_code": {"between": [8000, 8999]}}, postal, "postal_code") == [True, True]


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        (True, [True, True, True, False, False, False]),
        (False, [False, False, False, True, True, True]),
    ],
)
def test_boolean_test_values_match_booleans_and_their_texts(test, expected):
    values = ["true", "Yes", "1", "false", "no", "0"]
    assert holds({"x": test}, values) == expected
    assert holds({"x": test}, [True, False]) == [test, not test]


def test_combinators_and_several_operators_in_one_mapping():
    assert holds({"x": {"gte": 18, "lt": 65}}, ["18", "65", "30"]) == [True, False, True]
    assert holds({"all": []}, ["a"]) == [True]
    assert holds({"any": []}, ["a"]) == [False]
    when = {
        "any": [{"x": {"starts_with": "vp"}}, {"x": {"contains": "director"}}],
        "not": {"x": {"contains": "assistant"}},
    }
    values = ["VP Sales", "Sales Director", "Assistant to the Director", "Engineer"]
    assert holds(when, values) == [True, True, False, False]


def test_contains_starts_and_ends_with_compare_lower_cased_text():
    values = ["https://Shop.example.com/Pricing?x", None]
    assert holds({"x": {"contains": "/PRICING"}}, values) == [True, False]
    assert holds({"x": {"starts_with": "HTTPS://shop."}}, values) == [True, False]
    assert holds({"x": {"ends_with": "?X"}}, values) == [True, False]
