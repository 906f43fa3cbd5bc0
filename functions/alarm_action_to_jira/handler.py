"""Lambda entry point for alerts from a CloudWatch alarm action.

The handler is ``jira_notifier.entry.handlers.alarm_action``, in the layer, so that the CLI runs the same code.
"""

from jira_notifier.entry.handlers import alarm_action as lambda_handler

__all__ = ["lambda_handler"]
