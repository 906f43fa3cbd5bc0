"""``jira-notifier account name|list|forget``: account names stored in the providers table."""

from __future__ import annotations

import json

import pytest


def test_name_list_and_forget(cli, cloud):
    named = cli("account", "name", "111122223333", "Payments  Prod")
    cli("account", "name", "444455556666", "Platform")
    listing = cli("account", "list")
    as_json = cli("account", "list", "--json")

    assert named.code == 0 and named.out.startswith("account 111122223333 is named 'Payments Prod'")
    stored = {row["pk"]: row for row in cloud.items()}
    assert stored["ACCOUNT#111122223333"] == {
        "pk": "ACCOUNT#111122223333",
        "sk": "NAME",
        "type": "account-name",
        "value": '"Payments Prod"',
    }
    assert listing.out.splitlines() == ["ACCOUNT       NAME", "111122223333  Payments Prod", "444455556666  Platform"]
    assert json.loads(as_json.out)[0] == {"account": "111122223333", "name": "Payments Prod"}

    forgot = cli("account", "forget", "444455556666")
    again = cli("account", "forget", "444455556666")
    assert forgot.code == 0 and [row["pk"] for row in cloud.items()] == ["ACCOUNT#111122223333"]
    assert again.code == 1 and "has no name set" in again.err


@pytest.mark.parametrize(("account", "name"), [("1111", "x"), ("111122223333", " "), ("111122223333", "x" * 51)])
def test_name_refuses_a_bad_account_or_name(cli, cloud, account, name):
    result = cli("account", "name", account, name)

    assert result.code == 2 and result.err.startswith("error: ")  # usage: refused before anything is written
    assert cloud.items() == []
