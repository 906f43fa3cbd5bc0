"""What a new alarm issue shows beyond the event: the metric's graph, the log lines behind it, a composite's children.

Pure: the alarm as its event defines it (``definition``), what a new issue gains (``model``), and the builders
(``widget``, ``redact``, ``blocks``). ``adapters`` calls CloudWatch and CloudWatch Logs; ``enrich`` puts them
together for a create, within the invocation's deadline.
"""
