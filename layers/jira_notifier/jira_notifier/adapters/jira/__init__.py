"""jira_notifier/adapters/jira"""
