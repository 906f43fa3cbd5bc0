"""Jira Cloud: the REST client and the Atlassian Document Format builders."""
