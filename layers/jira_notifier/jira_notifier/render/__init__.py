"""jira_notifier/render"""
