"""What a new alarm issue shows beyond the event: the metric's graph, the log lines behind it, a composite's children.

Pure builders (``widget``, ``redact``, ``blocks``) and the model (``model``) need no AWS; ``adapters`` calls
CloudWatch and CloudWatch Logs; ``enrich`` puts them together for a create, within the invocation's deadline.
"""
