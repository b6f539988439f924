"""
Every place a newcomer reads: the README, the hand-written pages in docs/,
the generated ones in docs/generated/ and the comparison's explanations
(lab/blackbox/explanations.json, rendered into docs/generated/comparison.md).
The README reads in the promised order and length, and nothing a page
names is missing (a make target, a file or folder of the project, a link).
"""

import glob
import json
import os
import re
import subprocess

import pytest

from lab.harness.make import targets
from lab.harness.stack import ROOT

README = os.path.join(ROOT, 'README.md')
HAND_WRITTEN = sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))
GENERATED = sorted(glob.glob(os.path.join(ROOT, 'docs', 'generated', '*.md')))
# Folders and files the project had before: a page naming them is stale.
FORMER = {'harness', 'bench', 'blackbox', 'tracing', 'qa', 'setup'}


def read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def top_level():
    listed = subprocess.check_output(['git', 'ls-files'], cwd=ROOT, universal_newlines=True).split()
    return {path.split('/')[0] for path in listed}


def named_paths(text):
    """The project paths a page names in backticks, or bare with a file's
    suffix: those whose first part is (or was) a top-level entry."""
    known = top_level() | FORMER
    bare = r'(?<![\w/.:-])((?:%s)/[\w./*-]*\.(?:md|py|json|txt|png|svg|yml|ini))' % '|'.join(
        re.escape(entry) for entry in sorted(known)
    )
    for token in re.findall(r'`([^`\s]+)`', text) + re.findall(bare, text):
        path = token.split('::')[0].rstrip('/.,')
        if re.match(r'^[\w.-]+(/[\w.*-]+)*$', path) and (
            path.split('/')[0] in known or path.startswith('requirements-')
        ):
            yield path


def links(text):
    """The relative links of a Markdown page (anchors and URLs left out)."""
    for target in re.findall(r'\]\(([^)#\s]+)', text):
        if not re.match(r'^[a-z]+:', target):
            yield target


def explanations():
    """The comparison's explanations, as the page they are rendered into
    shows them."""
    with open(
        os.path.join(ROOT, 'lab', 'blackbox', 'explanations.json'), encoding='utf-8'
    ) as handle:
        return '\n'.join(
            ' '.join(why) for changes in json.load(handle).values() for why in changes.values()
        )


def page_id(path):
    return os.path.relpath(path, ROOT)


def test_the_readme_reads_in_the_promised_order():
    lines = read(README).splitlines()
    assert len(lines) <= 200
    terminals = [
        n
        for n, line in enumerate(lines)
        if line
        in ('daphne -b 0.0.0.0 -p 8001 chat.asgi:channel_layer', 'python manage.py runworker')
    ]
    assert len(terminals) == 2 and max(terminals) < 80, terminals
    headings = [line[3:] for line in lines if line.startswith('## ')]
    assert headings == [
        'Two commands',
        'The two terminals, as the post ran them',
        'The post, step by step',
        'The modern port',
        'Every generation between',
        'Going further',
    ]
    assert any('docs/generated/screenshot-room.png' in line for line in lines[:20])


def test_going_further_links_one_page_per_topic_each_once():
    text = read(README)
    further = text[text.index('## Going further') :]
    links = re.findall(r'^- \[[^]]+\]\((docs/[\w-]+\.md)\)', further, re.M)
    assert len(links) == len(set(links)) == len(further.strip().splitlines()) - 2
    assert sorted(os.path.join(ROOT, link) for link in links) == [
        page for page in HAND_WRITTEN if os.path.basename(page) != 'post.md'
    ]


@pytest.mark.parametrize('page', [README] + HAND_WRITTEN, ids=page_id)
def test_every_make_target_a_page_names_exists(page):
    named = set(re.findall(r'`make ([a-z][a-z0-9.-]*[a-z0-9])', read(page)))
    named |= set(re.findall(r'`[A-Z_]+=\S+ make ([a-z][a-z0-9.-]*[a-z0-9])', read(page)))
    assert named - targets() == set()


def missing(text, folder):
    """What a text shown in `folder` names that does not exist: project
    paths from the root (or the folder), links from the folder."""
    gone = [
        path
        for path in named_paths(text)
        if not glob.glob(os.path.join(ROOT, path)) and not glob.glob(os.path.join(folder, path))
    ]
    gone += [link for link in links(text) if not os.path.exists(os.path.join(folder, link))]
    return sorted(set(gone))


@pytest.mark.parametrize('page', [README] + HAND_WRITTEN + GENERATED, ids=page_id)
def test_every_file_and_link_a_page_names_exists(page):
    assert missing(read(page), os.path.dirname(page)) == []


def test_every_file_and_link_an_explanation_names_exists():
    assert missing(explanations(), os.path.join(ROOT, 'docs', 'generated')) == []


def committed_pages(text):
    """The (commit, path) of each `git show COMMIT:PATH` a page quotes an
    earlier run from."""
    return re.findall(r'`git\s+show\s+([0-9a-f]{7,40}):([\w./-]+)`', text)


@pytest.mark.parametrize('page', [README] + HAND_WRITTEN, ids=page_id)
def test_every_earlier_run_a_page_quotes_is_a_committed_page(page):
    shallow = subprocess.check_output(
        ['git', 'rev-parse', '--is-shallow-repository'], cwd=ROOT, universal_newlines=True
    ).strip()
    if shallow == 'true':
        pytest.skip('a shallow clone holds no earlier commits')
    gone = [
        (commit, path)
        for commit, path in committed_pages(read(page))
        if subprocess.run(
            ['git', 'cat-file', '-e', '%s:%s' % (commit, path)], cwd=ROOT, stderr=subprocess.DEVNULL
        ).returncode
    ]
    assert gone == []


@pytest.mark.parametrize('page', GENERATED, ids=page_id)
def test_a_generated_page_says_which_target_wrote_it(page):
    head = '\n'.join(read(page).splitlines()[:4])
    assert re.search(r'Written by `make ([a-z-]+)`', head), head
    assert set(re.findall(r'Written by `make ([a-z-]+)`', head)) <= targets()


@pytest.mark.parametrize('page', HAND_WRITTEN, ids=page_id)
def test_a_hand_written_page_is_not_a_generated_one(page):
    assert 'do not edit by hand' not in read(page)


def test_the_check_can_fail():
    # A page naming a removed target, a former folder, a missing file, a
    # dead link and a bare path that is gone, beside ones that exist.
    page = (
        '`make setup`, `harness/stack.py`, `lab/nothing.py`, [gone](docs/gone.md), '
        '`chat/models.py`, '
        '[here](../setup.md), measured (docs/benchmarks.md), [fine](benchmarks.md), /chat/room-1/'
    )
    assert set(re.findall(r'`make ([a-z][a-z0-9-]*)', page)) - targets() == {'setup'}
    assert missing(page, os.path.join(ROOT, 'docs', 'generated')) == [
        'docs/benchmarks.md',
        'docs/gone.md',
        'harness/stack.py',
        'lab/nothing.py',
    ]
    assert committed_pages(
        'as `git show 59db522:docs/benchmarks.md` and `git show\n  0000000:docs/x.md`'
    ) == [('59db522', 'docs/benchmarks.md'), ('0000000', 'docs/x.md')]
