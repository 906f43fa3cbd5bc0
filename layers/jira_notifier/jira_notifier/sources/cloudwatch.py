"""CloudWatch alarms from all three channels.

SNS sends PascalCase with a region display name and dimensions as name/value pairs; EventBridge and the alarm
Lambda action send camelCase with dimensions as an object. All three give the same key (the alarm ARN) and the same
transition time (the state timestamp), so one alarm seen on two channels makes one issue. An SNS message without
``AlarmArn`` (older and re-published messages) gets the ARN its account, region and name make.

An alarm over many time series (a Metrics Insights ``GROUP BY`` query) acts per contributor, one series each: a
contributor is an alert of its own, keyed on the alarm ARN and the contributor id (the id comes from the series'
attribute values, so it repeats in every alarm grouping by the same value). The alarm-level state of such an alarm
("1 out of 2 time series evaluated to ALARM") opens nothing: its contributors have their issues.

Alarm tags ride along when the alarm propagates them; they route the alert and fill fields, never name it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from jira_notifier.core.alert import AlarmDefinition, Alert, AlertState, Link, MetricQuery, Severity
from jira_notifier.sources.common import (
    Delivery,
    alarm_name_from_arn,
    arn_region_account,
    decode_json,
    digest,
    epoch_ms,
    facts,
    first_text,
    https_links,
    items,
    mapping,
    one_line,
    parse_time,
    region_code,
    show_time,
    text,
)
from jira_notifier.sources.regions import code_for_name, partition_of

_STATES = {"ALARM": AlertState.FIRING, "OK": AlertState.RESOLVED, "INSUFFICIENT_DATA": AlertState.UNKNOWN}
_OPERATIONS = {"create": "created", "update": "updated", "delete": "deleted"}
CONTRIBUTOR_SOURCE = "cloudwatch-contributor"  # the dedupe key's prefix of a contributor (its source to ask)
TAGS_READ = "SUCCESS"  # alarmTagsStatus when the tags were read; any other status: the tags are unavailable
# The alarm-level reason of an alarm over many time series counts them ("1 out of 2 time series evaluated to ALARM",
# "100+ time series evaluated to ALARM"); an empty query result says so only in words.
_SERIES_COUNT = re.compile(r"\b\d+\+?(?: out of \d+)? time series evaluated to\b", re.IGNORECASE)
_NO_SERIES = re.compile(r"\bno time series were returned\b", re.IGNORECASE)
_GROUP_BY = re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE)
MANY_SERIES_IGNORED = "alarm-level state of an alarm over many time series: each contributor has an issue of its own"

Facts = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _AlarmView:
    arn: str  # or, when no ARN can be known, "account:region:name"
    name: str
    state: str
    previous: str
    changed_at: datetime | None
    reason: str
    description: str
    account: str | None
    region: str | None
    details: Facts
    composite: bool
    definition: AlarmDefinition
    ignore_reason: str | None = None
    contributor_id: str = ""  # one series of an alarm over many time series
    contributor: tuple[tuple[str, str], ...] = ()  # its attributes: the GROUP BY dimensions and their values
    tags: tuple[tuple[str, str], ...] | None = None  # the alarm's propagated tags (None: not carried or not read)


def looks_like_sns_alarm(message: Mapping[str, Any]) -> bool:
    """An alarm notification: by its ARN, or by its content (older and re-published messages lack the ARN)."""
    if "AlarmArn" in message:
        return True
    has_rule_or_trigger = "Trigger" in message or "AlarmRule" in message
    return bool(text(message.get("AlarmName")) and text(message.get("NewStateValue")) and has_rule_or_trigger)


def from_sns_message(message: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    """An alarm notification published to SNS (metric, metric-math or composite)."""
    arn = text(message.get("AlarmArn")) or _arn_from_content(message) or _identity_without_arn(message)
    if not arn:
        return []
    region, account = arn_region_account(arn)  # the Region key is a display name such as "EU (Ireland)"
    rule = text(message.get("AlarmRule"))
    trigger = mapping(message.get("Trigger"))
    name = first_text(message.get("AlarmName"), alarm_name_from_arn(arn), arn)
    account = account or text(message.get("AWSAccountId")) or None
    changed_at = parse_time(message.get("StateChangeTime"))
    queries = () if rule else _sns_queries(trigger)
    contributor_id, contributor = _contributor(
        message.get("AlarmContributorId"), message.get("AlarmContributorAttributes")
    )
    view = _AlarmView(
        arn=arn,
        name=name,
        state=text(message.get("NewStateValue")).upper(),
        previous=text(message.get("OldStateValue")).upper(),
        changed_at=changed_at,
        reason=text(message.get("NewStateReason")),
        description=text(message.get("AlarmDescription")),
        account=account,
        region=region,
        details=_sns_composite_facts(message) if rule else _sns_trigger_facts(trigger, queries),
        composite=bool(rule),
        definition=AlarmDefinition(
            arn=arn,
            name=name,
            account=account,
            region=region,
            changed_at=changed_at,
            queries=queries,
            period=_whole(trigger.get("Period")),
            threshold=_number(trigger.get("Threshold")),
            comparison=text(trigger.get("ComparisonOperator")),
            evaluation_periods=_whole(trigger.get("EvaluationPeriods")),
            rule=rule,
            contributor=contributor,
        ),
        contributor_id=contributor_id,
        contributor=contributor,
        tags=alarm_tags(message.get("AlarmTags"), message.get("AlarmTagsStatus")),
    )
    return [_alarm_alert(view, delivery, message)]


def _arn_from_content(message: Mapping[str, Any]) -> str:
    """The ARN of an alarm message that lacks ``AlarmArn``: account, region and name, as the ARN would hold them.

    The region comes from its display name, or else from the alarm's own action ARNs (same region as the alarm).
    """
    name = text(message.get("AlarmName"))
    account = text(message.get("AWSAccountId"))
    actions = [
        text(arn)
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
        for arn in items(message.get(key))
        if arn_region_account(text(arn))[0]
    ]
    region = code_for_name(text(message.get("Region"))) or next((arn_region_account(arn)[0] for arn in actions), None)
    if not (name and account.isdigit() and len(account) == 12 and region):
        return ""
    return f"arn:{partition_of(region)}:cloudwatch:{region}:{account}:alarm:{name}"


def _identity_without_arn(message: Mapping[str, Any]) -> str:
    """Account, region (as written) and name, when the region cannot be told: still one key per alarm."""
    name = text(message.get("AlarmName"))
    return f"{text(message.get('AWSAccountId'))}:{text(message.get('Region'))}:{name}" if name else ""


def from_eventbridge(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    """A "CloudWatch Alarm State Change" or "CloudWatch Alarm Contributor State Change" event (the latter has
    ``detail.alarmContributor`` and no ``previousState``)."""
    arn = first_text(*items(event.get("resources")))
    if not arn:
        return []
    return [_alarm_alert(_camel_view(arn, mapping(event.get("detail")), event), delivery, event)]


def alarm_action_delivery(event: Mapping[str, Any]) -> Delivery:
    """The alarm action has no message id: one state change of one alarm (or of one of its contributors) is one
    delivery."""
    arn = text(event.get("alarmArn"))
    data = mapping(event.get("alarmData"))
    stamp = first_text(mapping(data.get("state")).get("timestamp"), event.get("time"))
    contributor = text(mapping(data.get("alarmContributor")).get("id"))
    key = f"alarm-action:{arn}:{stamp}" if arn and stamp else f"alarm-action:{digest(event)}"
    key = f"{key}:{contributor}" if contributor else key
    return Delivery(
        delivery_key=key,
        route_key="aws.cloudwatch",
        received_at=parse_time(event.get("time")),
        origin="a CloudWatch alarm action",
    )


def from_alarm_action(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    """The ``alarmData`` payload of an alarm whose action invokes the function directly."""
    arn = text(event.get("alarmArn"))
    if not arn:
        return []
    envelope = {
        "account": event.get("accountId"),
        "region": event.get("region"),
        # Where the action's payload puts the tags is not documented: beside the alarm's data, or at the top.
        "alarmTags": event.get("alarmTags"),
        "alarmTagsStatus": event.get("alarmTagsStatus"),
    }
    return [_alarm_alert(_camel_view(arn, mapping(event.get("alarmData")), envelope), delivery, event)]


def configuration_change(event: Mapping[str, Any], delivery: Delivery) -> list[Alert]:
    """A "CloudWatch Alarm Configuration Change": keyed like its alarm, but never an issue of its own."""
    arn = first_text(*items(event.get("resources")))
    if not arn:
        return []
    detail = mapping(event.get("detail"))
    region, account = arn_region_account(arn)
    account = account or text(event.get("account")) or None
    region = region or region_code(event.get("region"))
    name = first_text(detail.get("alarmName"), alarm_name_from_arn(arn), arn)
    operation = text(detail.get("operation")).lower() or "change"
    changed = _OPERATIONS.get(operation, f"changed ({operation})")
    when = parse_time(event.get("time"))
    return [
        Alert(
            source="cloudwatch-alarm",
            dedupe_key=f"cloudwatch-alarm:{arn}",
            delivery_key=delivery.delivery_key,
            state=AlertState.UNKNOWN,
            title=one_line(f"CloudWatch alarm {name}"),
            severity=Severity.LOW,
            account=account,
            region=region,
            occurred_at=when,
            what=f"The configuration of alarm {name} was {changed}" + (f" at {show_time(when)}." if when else "."),
            facts=facts(
                ("Account", account),
                ("Region", region),
                ("Alarm", name),
                ("Operation", operation),
                ("State", mapping(detail.get("state")).get("value")),
            ),
            links=_console_links(name, region),
            raw=event,
            notification_group=delivery.group(),
            route_key=delivery.route_key,
            ignore_reason=f"alarm configuration change ({operation}), not a state change",
        )
    ]


def _camel_view(arn: str, data: Mapping[str, Any], envelope: Mapping[str, Any]) -> _AlarmView:
    state = mapping(data.get("state"))
    config = mapping(data.get("configuration"))
    reason_data = _json_object(state.get("reasonData"))
    rule = text(config.get("alarmRule"))
    region, account = arn_region_account(arn)
    account = account or text(envelope.get("account")) or None
    region = region or region_code(envelope.get("region"))
    name = first_text(data.get("alarmName"), alarm_name_from_arn(arn), arn)
    changed_at = parse_time(state.get("timestamp"))
    suppressed_by = text(state.get("actionsSuppressedBy"))  # only `state` counts: previousState may still carry it
    contributor_id, contributor = _contributor(
        mapping(data.get("alarmContributor")).get("id"), mapping(data.get("alarmContributor")).get("attributes")
    )
    tags = alarm_tags(
        data.get("alarmTags", envelope.get("alarmTags")), data.get("alarmTagsStatus", envelope.get("alarmTagsStatus"))
    )
    queries: tuple[MetricQuery, ...] = ()
    if rule:
        children = _children(reason_data.get("triggeringAlarms"))
        details = facts(
            ("Alarm rule", rule),
            ("Triggering alarms", children),
            ("Actions suppressor", config.get("actionsSuppressor")),
        )
    else:
        queries = tuple(
            _metric_query(entry, camel=True) for entry in items(config.get("metrics")) if isinstance(entry, Mapping)
        )
        datapoints = ", ".join(filter(None, map(text, items(reason_data.get("recentDatapoints")))))
        details = _query_facts(queries) + facts(
            ("Threshold", reason_data.get("threshold")),
            ("Recent datapoints", datapoints),
        )
    return _AlarmView(
        arn=arn,
        name=name,
        state=text(state.get("value")).upper(),
        previous=text(mapping(data.get("previousState")).get("value")).upper(),
        changed_at=changed_at,
        reason=text(state.get("reason")),
        description=text(config.get("description")),
        account=account,
        region=region,
        details=details,
        composite=bool(rule),
        definition=AlarmDefinition(
            arn=arn,
            name=name,
            account=account,
            region=region,
            changed_at=changed_at,
            queries=queries,
            period=_whole(reason_data.get("period")),
            threshold=_number(reason_data.get("threshold")),
            evaluated_from=parse_time(reason_data.get("startDate")),
            rule=rule,
            contributor=contributor,
        ),
        ignore_reason=(
            f"composite alarm actions suppressed by {suppressed_by}: {text(state.get('actionsSuppressedReason'))}"
            if suppressed_by
            else None
        ),
        contributor_id=contributor_id,
        contributor=contributor,
        tags=tags,
    )


def _alarm_alert(view: _AlarmView, delivery: Delivery, raw: Any) -> Alert:
    kind = "Composite alarm" if view.composite else "Alarm"
    change = (
        f"changed from {view.previous} to {view.state}" if view.previous else f"went to {view.state or 'a new state'}"
    )
    when = show_time(view.changed_at)
    series = show_pairs(view.contributor)
    if view.contributor_id:
        subject = f"Contributor {series or view.contributor_id} of alarm {view.name}"
        title = f"CloudWatch alarm {view.name} ({series or view.contributor_id})"
        key = contributor_key(view.arn, view.contributor_id)
    else:
        subject, title, key = f"{kind} {view.name}", f"CloudWatch alarm {view.name}", f"cloudwatch-alarm:{view.arn}"
    ignore_reason = view.ignore_reason
    if not view.contributor_id and _many_series(view.reason, view.definition.queries):
        ignore_reason = ignore_reason or MANY_SERIES_IGNORED
    return Alert(
        source="cloudwatch-alarm",  # a contributor too: it reads, draws and groups as the alarm it belongs to
        dedupe_key=key,
        delivery_key=delivery.delivery_key,
        state=_STATES.get(view.state, AlertState.UNKNOWN),
        title=one_line(title),
        severity=Severity.HIGH,
        account=view.account,
        region=view.region,
        occurred_at=view.changed_at,
        what=f"{subject} {change}" + (f" at {when}." if when else "."),
        why=view.reason,
        facts=facts(
            ("Account", view.account),
            ("Region", view.region),
            ("Alarm", view.name),
            ("Contributor", series),
            ("Contributor ID", view.contributor_id),
            ("State", view.state),
            ("Previous state", view.previous),
            ("State changed", when),
            ("Description", view.description),
            ("Alarm tags", show_pairs(view.tags or ())),
        )
        + view.details,
        links=_console_links(view.name, view.region),
        raw=raw,
        notification_group=delivery.group(),
        route_key=delivery.route_key,
        transition_at=epoch_ms(view.changed_at),
        previous_state=_STATES.get(view.previous),
        ignore_reason=ignore_reason,
        alarm=view.definition,
        resources=(view.arn,) if view.arn.startswith("arn:") else (),
        alarm_tags=view.tags,
    )


def contributor_key(alarm_arn: str, contributor_id: str) -> str:
    """The dedupe key of one contributor of an alarm over many time series."""
    return f"{CONTRIBUTOR_SOURCE}:{alarm_arn}:{contributor_id}"


def read_contributor_key(dedupe_key: str) -> tuple[str, str] | None:
    """(alarm ARN, contributor id) from a contributor's dedupe key; None for any other key. The id is 16 hex
    characters (no ':'), so it is the last part even when the alarm's name holds a ':'."""
    source, _, rest = dedupe_key.partition(":")
    arn, _, contributor_id = rest.rpartition(":")
    if source != CONTRIBUTOR_SOURCE or not arn.startswith("arn:") or ":alarm:" not in arn or not contributor_id:
        return None
    return arn, contributor_id


def alarm_tags(tags: object, status: object) -> tuple[tuple[str, str], ...] | None:
    """The propagated tags, sorted: an object of key to value (or a list of Key/Value pairs). None when the event
    carries none, or its status says they could not be read (any status but SUCCESS: unavailable, never an error).
    Keys beginning ``aws:`` are AWS's own and never propagated; one that slipped through is dropped."""
    said = text(status).upper()
    if said and said != TAGS_READ:
        return None
    if isinstance(tags, Mapping):
        pairs = [(text(key), text(value)) for key, value in tags.items()]
    elif isinstance(tags, list):
        pairs = [
            (first_text(m.get("Key"), m.get("key")), first_text(m.get("Value"), m.get("value")))
            for m in map(mapping, tags)
        ]
    else:
        return () if said == TAGS_READ else None
    return tuple(sorted({k: v for k, v in pairs if k and not k.lower().startswith("aws:")}.items()))


def show_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    """``TableName=orders, Team=payments``: a contributor's attributes, an alarm's tags."""
    return ", ".join(f"{name}={value}" for name, value in pairs)


def _contributor(contributor_id: object, attributes: object) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A contributor's id and its attributes (the GROUP BY keys and their values, sorted); ("", ()) for an alarm.

    Every channel carries the id; were it ever missing, the attributes name the series as well (the id is derived
    from them), so their digest stands in for it."""
    pairs = tuple(sorted((text(k), text(v)) for k, v in mapping(attributes).items() if text(k)))
    found = text(contributor_id)
    if not found and pairs:
        found = "attributes-" + digest(pairs)[:16]
    return found, pairs if found else ()


def _many_series(reason: str, queries: tuple[MetricQuery, ...]) -> bool:
    """The alarm-level state of an alarm over many time series: its reason counts the series, or says the query
    returned none (then only when the query groups, as a single-series query may say the same)."""
    if _SERIES_COUNT.search(reason):
        return True
    return bool(_NO_SERIES.search(reason)) and any(_GROUP_BY.search(q.expression) for q in queries if q.returned)


def _console_links(name: str, region: str | None) -> tuple[Link, ...]:
    if not region:
        return ()
    url = (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(name, safe='')}"
    )
    return https_links(("CloudWatch alarm", url))


def _sns_queries(trigger: Mapping[str, Any]) -> tuple[MetricQuery, ...]:
    period = trigger.get("Period")
    queries = [
        _metric_query(entry, camel=False, alarm_period=period)
        for entry in items(trigger.get("Metrics"))
        if isinstance(entry, Mapping)
    ]
    if not queries and first_text(trigger.get("MetricName"), trigger.get("Namespace")):
        queries = [
            MetricQuery(
                namespace=text(trigger.get("Namespace")),
                name=text(trigger.get("MetricName")),
                stat=_sns_statistic(trigger),
                period=_whole(period),
                dimensions=_dimensions(trigger.get("Dimensions")),
            )
        ]
    return tuple(queries)


def _sns_trigger_facts(trigger: Mapping[str, Any], queries: tuple[MetricQuery, ...]) -> Facts:
    return _query_facts(queries) + facts(
        ("Threshold", trigger.get("Threshold")),
        ("Comparison", trigger.get("ComparisonOperator")),
        ("Evaluation periods", trigger.get("EvaluationPeriods")),
        ("Datapoints to alarm", trigger.get("DatapointsToAlarm")),
    )


def _sns_composite_facts(message: Mapping[str, Any]) -> Facts:
    return facts(
        ("Alarm rule", message.get("AlarmRule")),
        ("Triggering alarms", _children(message.get("TriggeringChildren"))),
    )


def _sns_statistic(trigger: Mapping[str, Any]) -> str:
    if text(trigger.get("StatisticType")) == "ExtendedStatistic":
        return first_text(trigger.get("ExtendedStatistic"), trigger.get("Statistic"))
    return first_text(trigger.get("Statistic"), trigger.get("ExtendedStatistic"))


def _metric_query(entry: Mapping[str, Any], *, camel: bool, alarm_period: object = None) -> MetricQuery:
    """One entry of an SNS alarm message's ``Metrics`` (PascalCase) or an EventBridge alarm event's ``metrics``
    (camelCase, where the metric's name is ``name``)."""

    def get(source: Mapping[str, Any], key: str) -> Any:
        return source.get(key[0].lower() + key[1:] if camel else key)

    stat = mapping(get(entry, "MetricStat"))
    metric = mapping(get(stat, "Metric"))
    return MetricQuery(
        id=text(get(entry, "Id")),
        expression=text(get(entry, "Expression")),
        label=text(get(entry, "Label")),
        returned=_returns_data(get(entry, "ReturnData")),
        namespace=text(get(metric, "Namespace")),
        name=text(metric.get("name") if camel else metric.get("MetricName")),
        stat=text(get(stat, "Stat")),
        period=_whole(first_text(get(stat, "Period"), get(entry, "Period"), alarm_period)),
        dimensions=_dimensions(get(metric, "Dimensions")),
    )


def _returns_data(value: object) -> bool:
    """ReturnData defaults to true when omitted; false may arrive as a boolean or as text."""
    return text(value).lower() != "false"


def _query_facts(queries: tuple[MetricQuery, ...]) -> Facts:
    """The metric or expression the alarm evaluates, then the inputs of a metric-math expression."""
    pairs: list[tuple[str, object]] = []
    for query in (q for q in queries if q.returned):
        if query.expression:
            label = f" ({query.label})" if query.label else ""
            pairs += [("Expression", query.expression + label), ("Period", _seconds(query.period))]
        else:
            pairs += [
                ("Metric", query.name),
                ("Namespace", query.namespace),
                ("Statistic", query.stat),
                ("Period", _seconds(query.period)),
                ("Dimensions", _show_dimensions(query.dimensions)),
            ]
    inputs = "; ".join(_describe_input(q) for q in queries if not q.returned)
    return tuple(dict.fromkeys(facts(*pairs, ("Metric inputs", inputs))))


def _describe_input(query: MetricQuery) -> str:
    if query.expression:
        return f"{query.id} = {query.expression}"
    how = ", ".join(filter(None, (query.stat, _show_dimensions(query.dimensions))))
    metric = " ".join(filter(None, (query.namespace, query.name)))
    return f"{query.id} = {metric}" + (f" ({how})" if how else "")


def _dimensions(value: object) -> tuple[tuple[str, str], ...]:
    """Name/value pairs from a list of name/value objects (SNS) or an object (EventBridge, alarm action)."""
    if isinstance(value, Mapping):
        pairs = [(text(k), text(v)) for k, v in value.items()]
    else:
        pairs = [
            (first_text(d.get("name"), d.get("Name")), first_text(d.get("value"), d.get("Value")))
            for d in map(mapping, items(value))
        ]
    return tuple((name, val) for name, val in pairs if name)


def _show_dimensions(pairs: tuple[tuple[str, str], ...]) -> str:
    """``InstanceId=i-0abc, ...``"""
    return ", ".join(f"{name}={val}" for name, val in pairs)


def _children(value: object) -> str:
    """Triggering child alarms as "name (STATE)": ARN strings or {Arn, State} objects, in either casing."""
    described = []
    for child in items(value):
        if isinstance(child, Mapping):
            arn = first_text(child.get("Arn"), child.get("arn"))
            state = mapping(child.get("State") or child.get("state"))
            state_value = first_text(state.get("Value"), state.get("value"))
        else:
            arn, state_value = text(child), ""
        name = alarm_name_from_arn(arn) or arn
        if name:
            described.append(f"{name} ({state_value})" if state_value else name)
    return ", ".join(described)


def _json_object(value: object) -> Mapping[str, Any]:
    """``reasonData`` is a JSON string; absent or broken, it simply adds nothing."""
    if isinstance(value, str):
        _, value = decode_json(value)
    return mapping(value)


def _seconds(period: int | None) -> str:
    return f"{period} seconds" if period else ""


def _whole(value: object) -> int | None:
    """A positive whole number given as a number or as its text (periods, evaluation periods)."""
    number = _number(value)
    return int(number) if number is not None and number.is_integer() and number > 0 else None


def _number(value: object) -> float | None:
    """A finite number, or its text; anything else (null, NaN, an object) is none."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
