"""
The side-by-side report: one row per scenario, what each generation did,
oldest first, and why each cell that changed from the one before it
changed, with its source (explanations.json). Writes comparison.md and
comparison.html (lab/templates/) from what test_scenarios.py observed; run
as a module (make compare), docs/generated/comparison.md from the run kept
in artefacts/observed.json.
"""

import collections
import html
import json
import os

from lab import pages
from lab.harness.generations import GENERATIONS, ROOT, title

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_PATH = os.path.join(HERE, 'expected.json')
# What test_scenarios.py observed in this run, by generation and scenario,
# and where the run keeps it for `make compare`.
OBSERVED = {}
OBSERVED_PATH = os.path.join(ROOT, 'artefacts', 'observed.json')
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
    for generation, observations in observed.items():
        recorded.setdefault(generation, {}).update(observations)
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
            [show(observed[generation][name]) for generation in GENERATIONS],
            [generation in changed for generation in GENERATIONS],
            ' '.join(
                '%s: %s (%s)'
                % (title(generation).split(' ')[0].rstrip(':'), *why[name][generation])
                for generation in changed
                if generation in why.get(name, {})
            ),
        )


def values(observed):
    return {
        'titles': [title(generation) for generation in GENERATIONS],
        'rows': list(rows(observed)),
    }


def markdown(observed):
    """The table alone, as the test run prints it."""
    return pages.render('comparison-table.md', **values(observed))


def write(observed, folder):
    """comparison.md and comparison.html in `folder`; the HTML page is
    escaped with html.escape, as the renderer escapes nothing."""
    shown = values(observed)
    pages.write('comparison.md', folder=folder, **shown)
    pages.write('comparison.html', folder=folder, escape=html.escape, **shown)


def main():
    with open(OBSERVED_PATH, encoding='utf-8') as handle:
        observed = json.load(handle)
    missing = [generation for generation in GENERATIONS if generation not in observed]
    if missing:
        raise SystemExit(
            '%s observed no scenario on %s: run lab/blackbox/test_scenarios.py on every generation'
            % (os.path.relpath(OBSERVED_PATH, ROOT), ', '.join(missing))
        )
    print('wrote', os.path.relpath(pages.write('comparison.md', **values(observed)), ROOT))


if __name__ == '__main__':
    main()
