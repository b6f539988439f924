"""
Black-box suites: every scenario run against both stacks over HTTP,
WebSocket and a browser, and the comparison they write (make compare).
"""
