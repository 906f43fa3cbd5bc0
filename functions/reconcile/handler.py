"""Lambda entry point for the scheduled reconcile run.

The handler is ``jira_notifier.entry.handlers.reconcile``, in the layer, so that the CLI runs the same code.
"""

from jira_notifier.entry.handlers import reconcile as lambda_handler

__all__ = ["lambda_handler"]
