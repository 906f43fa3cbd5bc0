"""jira_notifier/core"""
