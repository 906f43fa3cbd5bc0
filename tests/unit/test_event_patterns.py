"""The EventBridge pattern matcher of tests/support, against the examples of the AWS documentation
("Amazon EventBridge event patterns" and "Comparison operators for use in event patterns")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.event_patterns import matches

# The documentation's example event.
EC2_EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}

# The documentation's event for numeric, exists and null matching.
COUNTS_EVENT = {
    "detail-type": "Example",
    "source": "example.counts",
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "eventVersion": "",
        "responseElements": None,
        "state": "pending",
        "name": "Alice",
        "file": "report.png",
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.ec2"]}, True),
        ({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]}, True),
        ({"source": ["aws.s3", "aws.ec2"]}, True),  # any value of the list
        ({"source": ["aws.ec2"], "detail": {"state": ["running"]}}, False),  # every field must match
        ({"detail": {"state": ["terminated"]}}, True),  # nested objects
        ({"detail": {"state": {"value": ["terminated"]}}}, False),  # deeper than the event goes
        ({"detail": {"instance-id": ["i-1234567890abcdef0"], "state": ["terminated"]}}, True),
        ({"detail": {"missing": ["x"]}}, False),
        ({"account": [111122223333]}, False),  # a number never equals a string
        ({"source": ["AWS.EC2"]}, False),  # case-sensitive
    ],
)
def test_exact_values_and_nesting(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EC2_EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"region": [{"prefix": "us-"}]}, True),
        ({"region": [{"prefix": "eu-"}]}, False),
        ({"region": [{"prefix": {"equals-ignore-case": "US-"}}]}, True),
        ({"detail": {"file": [{"suffix": ".png"}]}}, True),
        ({"detail": {"file": [{"suffix": ".jpg"}]}}, False),
        ({"detail": {"name": [{"equals-ignore-case": "alice"}]}}, True),
        ({"detail": {"c-count": [{"prefix": "5"}]}}, False),  # prefix only matches strings
    ],
)
def test_prefix_suffix_and_ignore_case(pattern: dict[str, Any], expected: bool) -> None:
    event = {**EC2_EVENT, "detail": COUNTS_EVENT["detail"]}
    assert matches(pattern, event) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"detail": {"state": [{"anything-but": "initializing"}]}}, True),
        ({"detail": {"state": [{"anything-but": "pending"}]}}, False),
        ({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}, True),
        ({"detail": {"state": [{"anything-but": ["stopped", "pending"]}]}}, False),
        ({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}, True),
        ({"detail": {"c-count": [{"anything-but": [5]}]}}, False),
        ({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, True),
        ({"detail": {"state": [{"anything-but": {"prefix": "pend"}}]}}, False),
        ({"detail": {"file": [{"anything-but": {"suffix": ".png"}}]}}, False),
        ({"detail": {"absent": [{"anything-but": "x"}]}}, False),  # a missing field is not "anything but"
    ],
)
def test_anything_but(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, COUNTS_EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, True),
        ({"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}}, False),
        ({"detail": {"d-count": [{"numeric": ["<", 10]}]}}, True),
        ({"detail": {"x-limit": [{"numeric": ["=", 301.8]}]}}, True),
        ({"detail": {"x-limit": [{"numeric": [">=", 302]}]}}, False),
        ({"detail": {"c-count": [5]}}, True),
        ({"detail": {"c-count": [5.0]}}, True),  # numbers compare by value
        ({"detail": {"state": [{"numeric": [">", 0]}]}}, False),  # a string is not a number
    ],
)
def test_numeric(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, COUNTS_EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"detail": {"c-count": [{"exists": True}]}}, True),
        ({"detail": {"c-count": [{"exists": False}]}}, False),
        ({"detail": {"c-count-absent": [{"exists": False}]}}, True),
        ({"detail": {"c-count-absent": [{"exists": True}]}}, False),
        ({"absent": {"deeper": [{"exists": False}]}}, True),  # below a missing object
        ({"detail": {"state": {"deeper": [{"exists": False}]}}}, True),  # below a plain value
        ({"absent": {"deeper": [{"exists": True}]}}, False),
        ({"detail": {"eventVersion": [""]}}, True),  # empty string
        ({"detail": {"responseElements": [None]}}, True),  # null
        ({"detail": {"responseElements": [""]}}, False),  # null is not the empty string
    ],
)
def test_exists_null_and_empty(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, COUNTS_EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # The documentation's $or examples
        ({"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 1]}]}]}},
         True),
        ({"detail": {"$or": [{"c-count": [{"numeric": [">", 5]}]}, {"d-count": [{"numeric": ["<", 1]}]}]}}, False),
        ({"source": ["example.counts"], "$or": [{"detail-type": ["Example"]}, {"detail": {"state": ["x"]}}]}, True),
        ({"source": ["other"], "$or": [{"detail-type": ["Example"]}]}, False),  # $or is ANDed with the rest
    ],
)  # fmt: skip
def test_or(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, COUNTS_EVENT) is expected


# The documentation's array example: the event's resources array matches when any element is in the pattern's list.
ARRAY_PATTERN = {
    "resources": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
    ]
}


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"], True),
        (["arn:aws:ec2:us-east-1:777788889999:instance/i-b188560f",
          "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"], True),
        (["arn:aws:ec2:us-east-1:777788889999:instance/i-b188560f"], False),
        ([], False),
    ],
)  # fmt: skip
def test_an_event_array_matches_when_any_element_does(resources: list[str], expected: bool) -> None:
    assert matches(ARRAY_PATTERN, {**EC2_EVENT, "resources": resources}) is expected


FINDING_PATTERN = {"detail": {"findings": {"Severity": {"Label": ["HIGH"]}, "RecordState": ["ACTIVE"]}}}


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([{"Severity": {"Label": "HIGH"}, "RecordState": "ACTIVE"}], True),
        ([{"Severity": {"Label": "LOW"}, "RecordState": "ACTIVE"},
          {"Severity": {"Label": "HIGH"}, "RecordState": "ACTIVE"}], True),
        ([{"Severity": {"Label": "HIGH"}, "RecordState": "ARCHIVED"}], False),
        # One element must match the whole sub-pattern: its fields are not gathered from several elements
        ([{"Severity": {"Label": "HIGH"}, "RecordState": "ARCHIVED"},
          {"Severity": {"Label": "LOW"}, "RecordState": "ACTIVE"}], False),
        ([], False),
    ],
)  # fmt: skip
def test_an_array_of_objects_matches_when_one_element_matches_the_sub_pattern(
    findings: list[dict[str, Any]], expected: bool
) -> None:
    assert matches(FINDING_PATTERN, {"detail": {"findings": findings}}) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": "aws.ec2"},  # values go in a list
        {"source": []},
        {"source": [{"wildcard": "aws.*"}]},  # an operator this matcher does not know
        {"detail": {"c-count": [{"numeric": [">", "5"]}]}},  # a number as text
        {"detail": {"c-count": [{"numeric": ["<", 9, ">", 1]}]}},  # a range is lower bound first
        {"detail": {"c-count": [{"exists": "yes"}]}},
        {"detail": {"state": [{"prefix": "p", "suffix": "g"}]}},
        {"$or": []},
    ],
    ids=["bare-value", "empty-list", "unknown-operator", "numeric-text", "range-order", "exists-text",
         "two-operators", "empty-or"],
)  # fmt: skip
def test_a_malformed_or_unknown_pattern_is_an_error_not_a_mismatch(pattern: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        matches(pattern, COUNTS_EVENT)
