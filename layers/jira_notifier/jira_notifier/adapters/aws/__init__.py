"""jira_notifier/adapters/aws"""
