from __future__ import annotations
import json, traceback
from functions.sns_to_jira.handler import lambda_handler as sns
from functions.eventbridge_to_jira.handler import lambda_handler as eb
from tests.support.builders import sns_event

def test_probe(aws, jira, lambda_context):
    cases = {}
    for depth in (100, 300, 600, 900, 990):
        cases[f"deep-{depth}"] = sns_event("[" * depth + "]" * depth)
        cases[f"deep-obj-{depth}"] = sns_event('{"a":' * depth + "1" + "}" * depth)
    cases["ffff-parked"] = sns_event('{"dedupKey": "k\uffff", "title": "t", "notificationGroup": "nope"}')
    cases["huge-quotes-parked"] = sns_event(json.dumps({"dedupKey": "hq", "title": "t", "notificationGroup": "nope", "x": ["a"] * 60000}))
    cases["huge-cjk-parked"] = sns_event(json.dumps({"dedupKey": "cjk", "title": "t", "notificationGroup": "nope", "x": "漢" * 150000}, ensure_ascii=False))
    cases["huge-text"] = sns_event("x" * 3_000_000)
    for name, ev in cases.items():
        try:
            print(name, sns(ev, lambda_context))
        except BaseException as e:
            tb = traceback.extract_tb(e.__traceback__)
            print(name, "RAISED", type(e).__name__, str(e)[:100], [f"{f.filename.split('/')[-1]}:{f.lineno}" for f in tb if "jira_notifier" in f.filename][-3:])
    sqs = aws.session.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=aws.dead_letter_queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    print(attrs["Attributes"])
