"""Lambda entry point for alerts from an EventBridge rule.

The handler is ``jira_notifier.entry.handlers.eventbridge``, in the layer, so that the CLI runs the same code.
"""

from jira_notifier.entry.handlers import eventbridge as lambda_handler

__all__ = ["lambda_handler"]
