"""Formatting for people: the only place that turns numbers into text. One layer's worked
result (``layer``), a traced network (``network``), the table layout (``tables``), the plain
formats (``text``), problems (``problems``) and diagrams (``diagram``). The data comes from
``report``. Nothing is imported here, so that a command loads only the parts it prints with.
"""
