"""Lambda entry point for alerts from the SQS buffer.

The handler is ``jira_notifier.entry.handlers.sqs``, in the layer, so that the CLI runs the same code.
"""

from jira_notifier.entry.handlers import sqs as lambda_handler

__all__ = ["lambda_handler"]
