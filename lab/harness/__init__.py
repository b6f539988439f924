"""
What every suite and tool shares, on CPython 3.5 and current alike
(standard library, websocket-client, and Selenium in browser.py). Each
module says its public API in `__all__`; a class that runs something
(Stack, Cluster, Engine, Trace, MakeRun) starts it when entered (or on
`start()`) and stops everything it started when left (or on `stop()`).

  harness.generations  every generation, from generations/generations.txt
  harness.stack    a whole stack (Redis, daphne, runworkers, nginx) on free
                   loopback ports; the processes, ports and waits it uses
  harness.client   what a client does and sees: pages, sockets, frames, rows
  harness.browser  the same through Chromium (Selenium)
  harness.load     many clients at a rate, and what the processes spent
  harness.logged   which losses a stack logged, from its processes' output
  harness.trace    `make trace` beside a stack, and a chat through it
  harness.make     `make run` and its kin as a user runs them
  harness.post     the post's code as printed, laid over a copy and run
  harness.cluster  a stack's cluster in Docker behind nginx, and its engine
"""
