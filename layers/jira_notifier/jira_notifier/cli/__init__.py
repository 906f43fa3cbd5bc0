"""The operator's command line: ``jira-notifier``."""
