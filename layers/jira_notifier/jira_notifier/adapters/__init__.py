"""jira_notifier/adapters"""
