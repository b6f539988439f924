"""
The deviation ledger (docs/deviations.md) against the tree: each code
entry's marker stands in the files it names, and every package the legacy
virtualenv pins is either one the post's pip logs show or one a package
entry names, its pin carrying that entry's marker.
"""

import os
import re

import pytest

from lab.harness.stack import ROOT

LEDGER = os.path.join(ROOT, 'docs', 'deviations.md')
REQUIREMENTS = [
    'requirements-legacy.txt',
    'requirements/legacy-tests.txt',
    'requirements/bootstrap.txt',
]


def read(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        return handle.read()


def rows(text):
    """(entry, cells) for each row of the ledger's tables: P1, C7, F1..."""
    for line in text.splitlines():
        match = re.match(r'^\| ([PCF]\d+) \|', line)
        if match:
            yield match.group(1), [cell.strip() for cell in line.strip('|').split(' | ')]


def where(text):
    """{entry: the files its 'Where' column names}, for each code entry but
    a withdrawn one."""
    places = {}
    for entry, cells in rows(text):
        if not entry.startswith('P') and 'withdrawn' not in cells[3]:
            places[entry] = [
                token
                for token in re.findall(r'`([^`]+)`', cells[1])
                if os.path.isfile(os.path.join(ROOT, token))
            ]
    return places


def normal(name):
    return name.lower().replace('_', '-')


def post_installed(text):
    """The packages the post's pip logs show: the ledger's first paragraph
    under "Packages" quotes them."""
    section = text[text.index('## Packages') : text.index('| # |', text.index('## Packages'))]
    names = set()
    for token in re.findall(r'`([^`]+)`', section):
        for word in token.split():
            if not re.search(r'[/.]txt$', word):
                names.add(normal(re.sub(r'-\d[\w.]*$', '', word)))
    return names


def pins():
    """(file, package, the deviation its line names or None) per pin."""
    for path in REQUIREMENTS:
        for line in read(path).splitlines():
            match = re.match(r'^([A-Za-z0-9_.-]+)==', line)
            if match:
                marker = re.search(r'# deviation (P\d+)$', line)
                yield path, normal(match.group(1)), marker.group(1) if marker else None


@pytest.mark.parametrize(
    'entry', sorted(where(read('docs/deviations.md')), key=lambda e: (e[0], int(e[1:])))
)
def test_each_code_entry_is_marked_in_the_files_it_names(entry):
    files = where(read('docs/deviations.md'))[entry]
    assert files, '%s names no file of the tree' % entry
    unmarked = [path for path in files if not re.search(r'\b%s\b' % entry, read(path))]
    assert unmarked == []


def test_every_legacy_pin_is_the_posts_or_a_marked_ledger_entry():
    text = read('docs/deviations.md')
    entries = dict(rows(text))
    seen = post_installed(text)
    assert {'channels', 'daphne', 'asgi-redis', 'twisted', 'django'} <= seen, seen
    wrong = []
    for path, package, marker in pins():
        if marker is None:
            if package not in seen:
                wrong.append("%s: %s is not the post's and names no ledger entry" % (path, package))
        elif marker not in entries or package not in normal(' '.join(entries[marker])):
            wrong.append('%s: %s names %s, which does not name it' % (path, package, marker))
    assert wrong == []


def test_every_package_entry_marks_a_pin():
    marked = {marker for _, _, marker in pins()}
    entries = {entry for entry, _ in rows(read('docs/deviations.md')) if entry.startswith('P')}
    assert entries - marked == set()
