"""
The side-by-side report: one row per scenario, what each stack did, same or
different, and why (explanations.json). Writes comparison.md and
comparison.html (lab/templates/) from what test_scenarios.py observed.
"""

import collections
import html
import json
import os

from lab import pages

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_PATH = os.path.join(HERE, 'expected.json')
# What test_scenarios.py observed in this run, by stack and scenario.
OBSERVED = {}
TITLES = {
    'legacy': 'legacy (Channels 1.0.3, daphne 1.0.2 + runworker)',
    'modern': 'modern (Channels 4, daphne 4)',
}
# What each stack did in one scenario, as the cells show it, and why they
# differ when they do.
Row = collections.namedtuple('Row', 'scenario legacy modern same why')


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


def rows(observed):
    why = explanations()
    for name in observed['legacy']:
        legacy, modern = observed['legacy'][name], observed['modern'].get(name)
        same = legacy == modern
        yield Row(name, show(legacy), show(modern), same, '' if same else why.get(name, ''))


def markdown(observed):
    """The table alone, as the test run prints it."""
    return pages.render('comparison-table.md', titles=TITLES, rows=list(rows(observed)))


def write(observed, folder):
    """comparison.md and comparison.html in `folder`; the HTML page is
    escaped with html.escape, as the renderer escapes nothing."""
    table = list(rows(observed))
    pages.write('comparison.md', folder=folder, titles=TITLES, rows=table)
    pages.write('comparison.html', folder=folder, titles=TITLES, rows=table, escape=html.escape)
