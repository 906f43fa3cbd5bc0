"""jira_standin"""
