"""Lambda entry point for alerts from an SNS topic.

The handler is ``jira_notifier.entry.handlers.sns``, in the layer, so that the CLI runs the same code.
"""

from jira_notifier.entry.handlers import sns as lambda_handler

__all__ = ["lambda_handler"]
