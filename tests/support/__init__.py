"""Helpers shared by the tests: checks of requests against Atlassian's published specs."""
