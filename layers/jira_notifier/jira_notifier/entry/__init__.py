"""jira_notifier/entry"""
