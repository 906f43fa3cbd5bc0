"""``provider add --group-by ... --group-window ...``: storms as one issue, configured per provider."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_provider import ADD


def test_add_stores_the_grouping_and_its_window(cli, cloud):
    cloud.put_secret()

    result = cli(*ADD, "--group-by", "account, namespace", "--group-window", "15m")

    assert result.code == 0, result.err
    [item] = cloud.items()
    stored = json.loads(item["value"])
    assert stored["groupBy"] == ["account", "namespace"] and stored["groupWindowSeconds"] == 900


def test_an_alarm_name_prefix_groups_with_the_default_window(cli, cloud):
    cloud.put_secret()

    assert cli(*ADD, "--group-by", "prefix:-").code == 0

    [item] = cloud.items()
    assert json.loads(item["value"])["groupBy"] == ["prefix:-"]
    assert json.loads(item["value"])["groupWindowSeconds"] == 600


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (("--group-by", "team"), "--group-by 'team' is not one of account, region, namespace, source"),
        (("--group-by", "prefix:"), "prefix:<n> or prefix:<separator>"),
        (("--group-by", "prefix:0"), "a prefix needs at least one character"),
        (("--group-by", "account,account"), "names a part twice"),
        (("--group-by", "account", "--group-window", "0m"), "--group-window must be a positive duration"),
        (("--group-window", "10m"), "--group-window needs --group-by"),
        (("--group-by", "account", "--group-window", "soon"), "argument --group-window: 'soon' is not a duration"),
        (("--group-by", "account", "--group-window", "600"), "argument --group-window: '600' has no unit"),
    ],
    ids=[
        "unknown-part",
        "empty-prefix",
        "zero-prefix",
        "twice",
        "zero-window",
        "window-alone",
        "not-a-duration",
        "no-unit",
    ],
)
def test_add_refuses_a_grouping_it_cannot_use(cli, cloud, options, complaint):
    cloud.put_secret()

    result = cli(*ADD, *options)

    assert result.code == 2  # usage: refused before anything is read or written
    assert complaint in result.err
    assert cloud.items() == []
