"""
Every generation of the chat, oldest first, as generations/generations.txt
declares them (ops/generations reads the same table for the shell and the
Makefile). A generation is named by its Channels version as users type it,
`make run CHANNELS=2.4`: '1.0' is the post, '4.3' the modern port.
Versions are read from each generation's pins file, never typed. Valid
Python 3.5, standard library only: the legacy tests import it.
"""

import collections
import functools
import os
import re

__all__ = [
    'GENERATIONS',
    'Generation',
    'ROOT',
    'TABLE',
    'minors',
    'pins',
    'title',
]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLE_PATH = os.path.join(ROOT, 'generations', 'generations.txt')
Generation = collections.namedtuple(
    'Generation', 'channels tree pins pythons redis runworker venv about'
)
PIN = re.compile(r'^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)', re.M)


def read(path=TABLE_PATH):
    """{key: Generation}, in the table's order."""
    table, columns = collections.OrderedDict(), None
    with open(path, encoding='utf-8') as lines:
        for line in lines:
            if not line.strip() or line.startswith('#'):
                continue
            if columns is None:
                columns = line.split()
                continue
            row = dict(zip(columns, line.split(None, len(columns) - 1)))
            table[row['channels']] = Generation(
                channels=row['channels'],
                tree=row['tree'],
                pins=row['pins'],
                pythons=row['python'].split(','),
                redis=int(row['redis']),
                runworker=row['runworker'] == 'yes',
                venv=row['venv'],
                about='' if row['about'].strip() == '-' else row['about'].strip(),
            )
    return table


TABLE = read()
GENERATIONS = list(TABLE)


@functools.lru_cache(maxsize=None)
def pins(key):
    """{package: version} of a generation's pins file, names as pip
    normalises them (lower case, '-' for '_'). Read once; not to be changed."""
    with open(os.path.join(ROOT, TABLE[key].pins), encoding='utf-8') as handle:
        found = PIN.findall(handle.read())
    return collections.OrderedDict(
        (name.lower().replace('_', '-'), version) for name, version in found
    )


def minors(key):
    """The CPythons a generation runs on as X.Y, best first."""
    return ['.'.join(python.split('.')[:2]) for python in TABLE[key].pythons]


def title(key):
    """'1.0.3: the post (daphne 1.0.2 + runworker)': its Channels version,
    what it is, and its interface server, from its row and pins."""
    generation, pinned = TABLE[key], pins(key)
    return '%s%s (daphne %s%s)' % (
        pinned['channels'],
        ': ' + generation.about if generation.about else '',
        pinned['daphne'],
        ' + runworker' if generation.runworker else '',
    )
