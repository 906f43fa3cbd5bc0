"""Lambda entry point for Jira admin webhooks through the function's URL (only with the JiraWebhook parameter).

The handler is ``jira_notifier.entry.handlers.jira_webhook``, in the layer.
"""

from jira_notifier.entry.handlers import jira_webhook as lambda_handler

__all__ = ["lambda_handler"]
