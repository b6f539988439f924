"""
What the stacks' logs say they lost, read in one place for the benchmark
and the comparison's load scenarios, so that a loss a stack logged is
classed as logged in both. The replica's layer logs at WARNING each group
send that skipped members at a full reply channel (deviation C20) and each
message a receive found expired (C21); the modern port logs neither kind,
having no capacity and no expiry. Channels 1.1's, 2.4's and 3.0's trees
say the first in the replica's words (their vikander/layers.py), 1.1's
the second too, and 3.0's each message a full receive buffer drops and
each Redis popped for a receive being cancelled.
Valid Python 3.5, standard library only.
"""

import re

__all__ = [
    'HELLO_LOST',
    'LOGGED',
    'LOST_SILENTLY',
    'NEVER_STORED',
    'SILENT',
    'account',
    'losses',
    'outcome',
]

# The replica's and 1.1's reply channels, and 2.4's and 3.0's channels
# (their trees' vikander/layers.py count the members of a full key).
DROPPED = re.compile(r'message dropped for (\d+) member\(s\) whose (?:reply )?channel is full')
# 3.0's receive buffer, full, drops its oldest (its tree's vikander/layers.py).
BUFFER_DROPPED = re.compile(r'message dropped for 1 member whose receive buffer is full')
# 3.0's receive, cancelled as its socket closed, after Redis popped for it.
POPPED = re.compile(r'message dropped for (\d+) member\(s\): Redis popped it for a receive')
EXPIRED = re.compile(r'channel (\S+): message expired unhandled')

# A loss as a client saw it, and its class once the logs account for it.
SILENT = 'stored, not delivered within the drain, no error'
NEVER_STORED = 'never stored, no error'
# A room's hello before the load (lab/harness/load.py) that a member never got.
HELLO_LOST = "the room's hello, not delivered before the load, no error"
ACCOUNTED = (
    (SILENT, 'dropped', 'stored, dropped at a full reply channel, WARNING logged'),
    (SILENT, 'dropped from a buffer', 'stored, dropped from a full receive buffer, WARNING logged'),
    (
        SILENT,
        'popped for a cancelled receive',
        'stored, popped for a cancelled receive, WARNING logged',
    ),
    (SILENT, 'expired replies', 'stored, expired in a reply channel, WARNING logged'),
    (
        NEVER_STORED,
        'expired frames',
        'never stored, expired waiting for a runworker, WARNING logged',
    ),
)
LOGGED = set(logged for _, _, logged in ACCOUNTED)
LOST_SILENTLY = 'some lost silently'


def losses(logs):
    """What the logs say was lost: deliveries dropped at a full (reply)
    channel or from a full receive buffer, replies and frames (every other
    channel) found expired."""
    expired = EXPIRED.findall(logs)
    return {
        'dropped': sum(int(members) for members in DROPPED.findall(logs)),
        'dropped from a buffer': len(BUFFER_DROPPED.findall(logs)),
        'popped for a cancelled receive': sum(int(n) for n in POPPED.findall(logs)),
        'expired replies': sum(1 for channel in expired if '!' in channel),
        'expired frames': sum(1 for channel in expired if '!' not in channel),
    }


def account(lost, found):
    """`lost` ({class: count} as the clients saw it) with what the logs
    said was lost (`found`, from losses()) moved to its logged class: a
    logged loss is one the clients saw, so it never adds to the count."""
    lost = dict(lost)
    for seen, kind, logged in ACCOUNTED:
        n = min(found[kind], lost.get(seen, 0))
        if n:
            lost[logged] = lost.get(logged, 0) + n
            lost[seen] -= n
            if not lost[seen]:
                del lost[seen]
    return lost


def outcome(counted):
    """What the members of a loaded room observed, as a class, not a timing."""
    if counted['close_codes']:
        return 'senders closed with ' + ', '.join(sorted(counted['close_codes']))
    if not counted['lost_total']:
        return 'everything delivered'
    if set(counted['lost']) <= LOGGED:
        return 'some lost, each logged at WARNING'
    return LOST_SILENTLY
