"""jira_notifier/adapters/dynamodb"""
