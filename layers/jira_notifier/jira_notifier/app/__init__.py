"""jira_notifier/app"""
