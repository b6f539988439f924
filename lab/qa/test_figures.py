"""
Every figure a hand-written page gives (the README and docs/*.md) is one a
make target measured: found in a committed generated page (docs/generated/,
or an earlier one the page quotes as `git show COMMIT:PATH`) or in a
committed results file the page names. A figure is a number the way
the pages print measurements: with a unit (12.5 ms, 2.42 MB, 14 %, 6.7×,
4.5 minutes), with a thousands separator (4,740) or as a run's range
(4.28–5.21), given as measured or rounded to fewer places. Versions, dates,
issue numbers and code are not figures.
"""

import glob
import os
import re
import subprocess

import pytest

from lab.harness.stack import ROOT

PAGES = [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))
GENERATED = sorted(glob.glob(os.path.join(ROOT, 'docs', 'generated', '*.md')))
NUMBER = r'\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?'
UNIT = r'\s?(?:ms|MB/min|MB|KB|%|×|times|minutes?|min|cores?)(?![\w/])'
FIGURE = re.compile(
    r'(?<![\w.,/#:+-])(?:'
    # a number with a unit, the second of a range with one (4.0 to 6.1 ms)
    r'(?P<unit>%s)(?=%s)'
    r'|(?P<comma>\d{1,3}(?:,\d{3})+(?:\.\d+)?)'
    # a run's range: (low–high), each end a figure
    r'|(?<=\()(?P<low>%s)(?=–)|(?<=–)(?P<high>%s)(?=\))'
    r')(?![\w.,]*\d)' % (NUMBER, UNIT, NUMBER, NUMBER)
)
# A results file a page names: committed JSON beside the generated pages.
RESULTS = re.compile(r'docs/generated/[\w.-]+\.json')


def read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def prose(text):
    """The page without what is not a figure: code, link targets, dates."""
    text = re.sub(r'```.*?```', '', text, flags=re.S)
    text = re.sub(r'`[^`]*`', '``', text)
    text = re.sub(r'\]\([^)]*\)', ']()', text)
    return re.sub(r'\b\d{4}-\d{2}-\d{2}\b', '', text)


def figures(text):
    for match in FIGURE.finditer(prose(text)):
        yield next(value for value in match.groups() if value)


def quoted(page_text):
    """The earlier committed pages a page quotes, as they were committed."""
    for commit, path in re.findall(r'`git\s+show\s+([0-9a-f]{7,40}):([\w./-]+)`', page_text):
        shown = subprocess.run(
            ['git', 'show', '%s:%s' % (commit, path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
        )
        yield shown.stdout


def measured(page_text):
    """Every number of the committed generated pages, of the earlier ones
    the page quotes, and of each results file the page names."""
    texts = [read(path) for path in GENERATED] + list(quoted(page_text))
    texts += [
        read(os.path.join(ROOT, path))
        for path in RESULTS.findall(page_text)
        if os.path.exists(os.path.join(ROOT, path))
    ]
    return {
        shown
        for text in texts
        for number in re.findall(NUMBER, text)
        for shown in rounded(number.replace(',', ''))
    }


def rounded(number):
    """A measured number as a page may quote it: itself, or rounded to
    fewer places (32.9 quoted as 33)."""
    places = len(number.split('.')[1]) if '.' in number else 0
    return {'%.*f' % (kept, float(number)) for kept in range(places + 1)}


def unmeasured(text):
    found = measured(text)
    return sorted(set(f for f in figures(text) if f.replace(',', '') not in found))


@pytest.mark.parametrize('page', PAGES, ids=lambda path: os.path.relpath(path, ROOT))
def test_every_figure_of_a_hand_written_page_was_measured_by_a_make_target(page):
    assert unmeasured(read(page)) == []


def test_the_check_can_fail():
    page = (
        'delivered 5,049 and 5,061 of 6,000, p99 101.5 ms (37.2–208.3), 14 % of it, '
        'on CPython 3.5, Django 1.11, channels#1683, `12.5 ms` in code, on 2026-12-04'
    )
    assert list(figures(page)) == ['5,049', '5,061', '6,000', '101.5', '37.2', '208.3', '14']
    assert {'5,049', '101.5', '208.3'} <= set(unmeasured(page))
