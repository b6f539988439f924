"""
What every suite and QA driver shares, on CPython 3.5 and current alike
(standard library and websocket-client only):

  harness.stack   starts a whole stack (Redis, daphne, runworkers, nginx)
                  on free loopback ports and stops it
  harness.client  what a client does and sees: pages, sockets, frames, rows
"""
