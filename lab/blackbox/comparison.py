"""
The side-by-side report: one row per scenario, what each generation did,
oldest first, and why each cell that changed from the one before it
changed, with its source (explanations.json). Writes comparison.md and
comparison.html (lab/templates/) from what test_scenarios.py observed.
"""

import collections
import html
import json
import os

from lab import pages
from lab.harness.stack import GENERATIONS

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_PATH = os.path.join(HERE, 'expected.json')
# What test_scenarios.py observed in this run, by stack and scenario.
OBSERVED = {}
TITLES = {
    'legacy': '1.0.3: the post (daphne 1.0.2 + runworker)',
    'channels-1.1': '1.1.8 (daphne 1.4.2 + runworker)',
    'channels-2.4': '2.4.0 (daphne 2.5.0)',
    'channels-3.0': '3.0.5 (daphne 3.0.2)',
    'modern': '4.3: the modern port (daphne 4.2)',
}
# What each generation did in one scenario, as the cells show it, whether
# each differs from the one before it, and why those that do.
Row = collections.namedtuple('Row', 'scenario cells changed why')


def expected():
    with open(EXPECTED_PATH, encoding='utf-8') as handle:
        return json.load(handle)


def explanations():
    with open(os.path.join(HERE, 'explanations.json'), encoding='utf-8') as handle:
        return json.load(handle)


def record(observed, path):
    """Records what ran (`-k` selects some scenarios) over the expectations
    in `path`, keeping every other one as it was."""
    recorded = {}
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            recorded = json.load(handle)
    for kind, observations in observed.items():
        recorded.setdefault(kind, {}).update(observations)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(recorded, handle, indent=2, ensure_ascii=False, sort_keys=True)
        handle.write('\n')


def show(observation):
    if isinstance(observation, dict):
        return '; '.join('%s: %s' % (key, show(value)) for key, value in observation.items())
    if isinstance(observation, list):
        return '[%s]' % ', '.join(show(value) for value in observation)
    text = json.dumps(observation) if not isinstance(observation, str) else observation
    return text if len(text) <= 120 else text[:117] + '...'


def changes(observed, name):
    """The generations whose observation of scenario `name` differs from
    the generation's before it."""
    return [
        later
        for earlier, later in zip(GENERATIONS, GENERATIONS[1:])
        if observed[earlier][name] != observed[later][name]
    ]


def rows(observed):
    why = explanations()
    for name in observed[GENERATIONS[0]]:
        changed = changes(observed, name)
        yield Row(
            name,
            [show(observed[kind][name]) for kind in GENERATIONS],
            [kind in changed for kind in GENERATIONS],
            ' '.join(
                '%s: %s (%s)' % (TITLES[kind].split(' ')[0].rstrip(':'), *why[name][kind])
                for kind in changed
                if kind in why.get(name, {})
            ),
        )


def values(observed):
    return {'titles': [TITLES[kind] for kind in GENERATIONS], 'rows': list(rows(observed))}


def markdown(observed):
    """The table alone, as the test run prints it."""
    return pages.render('comparison-table.md', **values(observed))


def write(observed, folder):
    """comparison.md and comparison.html in `folder`; the HTML page is
    escaped with html.escape, as the renderer escapes nothing."""
    shown = values(observed)
    pages.write('comparison.md', folder=folder, **shown)
    pages.write('comparison.html', folder=folder, escape=html.escape, **shown)
