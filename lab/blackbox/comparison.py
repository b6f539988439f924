"""
The side-by-side report: one row per scenario, what each stack did, same or
different, and why (explanations.json), as Markdown and as one HTML page.
"""

import html
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_PATH = os.path.join(HERE, 'expected.json')
# What test_scenarios.py observed in this run, by stack and scenario.
OBSERVED = {}
TITLES = {
    'legacy': 'legacy (Channels 1.0.3, daphne 1.0.2 + runworker)',
    'modern': 'modern (Channels 4, daphne 4)',
}


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
        yield (
            name,
            show(legacy),
            show(modern),
            'same' if same else 'different',
            '' if same else why.get(name, ''),
        )


def markdown(observed):
    lines = [
        '| scenario | %s | %s | | why |' % (TITLES['legacy'], TITLES['modern']),
        '|---|---|---|---|---|',
    ]
    for row in rows(observed):
        lines.append('| %s |' % ' | '.join(cell.replace('|', '\\|') for cell in row))
    return '\n'.join(lines) + '\n'


def html_page(observed):
    body = ''.join(
        '<tr class="%s">%s</tr>\n'
        % (row[3], ''.join('<td>%s</td>' % html.escape(cell) for cell in row))
        for row in rows(observed)
    )
    return """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Channels 1.x and Channels 4, side by side</title>
<style>
body { font: 14px/1.4 sans-serif; margin: 2em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: .4em .6em; vertical-align: top; text-align: left; }
tr.different td:nth-child(4) { color: #b00; font-weight: bold; }
tr.same td:nth-child(4) { color: #070; }
</style></head><body>
<h1>Channels 1.x and Channels 4, side by side</h1>
<p>Every scenario drives a stack only over HTTP and WebSocket; each cell is what the client observed.</p>
<table><tr><th>scenario</th><th>%s</th><th>%s</th><th></th><th>why</th></tr>
%s</table></body></html>
""" % (html.escape(TITLES['legacy']), html.escape(TITLES['modern']), body)


def write(observed, folder):
    with open(os.path.join(folder, 'comparison.md'), 'w', encoding='utf-8') as handle:
        handle.write(
            '# Channels 1.x and Channels 4, side by side\n\n'
            'Written by `make compare` (lab/blackbox/test_scenarios.py, lab/blackbox/comparison.py); '
            'do not edit by hand. Each cell is what a real client observed over HTTP and WebSocket; '
            '[comparing.md](../comparing.md) says how to read it.\n\n' + markdown(observed)
        )
    with open(os.path.join(folder, 'comparison.html'), 'w', encoding='utf-8') as handle:
        handle.write(html_page(observed))
