"""jira-notifier: AWS alerts become Jira Cloud issues that follow their alert."""
