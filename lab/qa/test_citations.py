"""
Every explanation that rests on a library's code cites it exactly, as
`<distribution> <version> <path> <Symbol>`, e.g. `channels_redis 2.4.2
channels_redis/core.py RedisChannelLayer.receive`, and each citation is
checked against the installed file: the version is one a generation pins,
the file is in that generation's virtualenv (make test builds them all),
the symbol is defined in it, and what the explanation quotes in backticks
is in a file it cites. Release notes, changelogs, specs and issues are
cited by their entry or number. The comparison's explanations
(lab/blackbox/explanations.json) and the pages that explain a library's
code (docs/failures.md, generations.md, performance.md, trace.md) are read.
"""

import ast
import glob
import json
import os
import re
import warnings

import pytest

from lab.harness.generations import GENERATIONS, TABLE, pins
from lab.harness.stack import ROOT

LIBRARIES = ('asgi_redis', 'asgiref', 'autobahn', 'channels', 'channels_redis', 'daphne', 'twisted')
CITATION = re.compile(
    r'\b(%s) (\d+(?:\.\d+)+) ((?:[\w]+/)*\w+\.py) ([A-Za-z_]\w*(?:\.\w+)*)' % '|'.join(LIBRARIES)
)
# A library's file named without the rest of a citation.
LIBRARY_FILE = re.compile(r'(?<![\w/.])(?:%s)/(?:\w+/)*\w+\.py' % '|'.join(LIBRARIES))
# What else a source may be: an issue, a release's notes, a spec or guide,
# an advisory, or one of the project's own files or pages.
OTHER_SOURCE = re.compile(
    r'(\w+#\d+|release notes|changelog|spec\b|guide|CVE-\d+-\d+|\.md\b|^[\w./-]+\.py$)'
)
PAGES = ['docs/failures.md', 'docs/generations.md', 'docs/performance.md', 'docs/trace.md']


def explanations():
    with open(os.path.join(ROOT, 'lab', 'blackbox', 'explanations.json'), encoding='utf-8') as f:
        for scenario, by_generation in json.load(f).items():
            for generation, (text, source) in by_generation.items():
                yield '%s[%s]' % (scenario, generation), text, source


def installed(distribution, version, path):
    """The file `path` of `distribution` at `version`, in the virtualenv of
    a generation that pins it."""
    for generation in GENERATIONS:
        if pins(generation).get(distribution.replace('_', '-')) == version:
            venv = os.path.join(ROOT, TABLE[generation].venv)
            found = glob.glob(os.path.join(venv, 'lib', 'python*', 'site-packages', path))
            assert found, '%s %s is pinned by %s but %s is not in %s' % (
                distribution,
                version,
                generation,
                path,
                venv,
            )
            return found[0]
    raise AssertionError('no generation pins %s==%s' % (distribution, version))


def defines(tree, symbol):
    """Whether a module's syntax tree defines `symbol` (name, or Class.member)."""
    scope = tree.body
    for name in symbol.split('.'):
        found = None
        for node in scope:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                found = node if node.name == name else found
            elif isinstance(node, ast.Assign) and any(
                getattr(target, 'id', None) == name for target in node.targets
            ):
                found = node
        if found is None:
            return False
        scope = getattr(found, 'body', [])
    return True


def check(citations, quoted, where):
    """Each citation's file and symbol, and each quoted text in one of the files."""
    texts = []
    for distribution, version, path, symbol in citations:
        with open(installed(distribution, version, path), encoding='utf-8') as source:
            text = source.read()
        with warnings.catch_warnings():  # old code's escapes, not ours to mend
            warnings.simplefilter('ignore')
            tree = ast.parse(text)
        assert defines(tree, symbol), '%s: %s %s %s has no %s' % (
            where,
            distribution,
            version,
            path,
            symbol,
        )
        texts.append(text)
    for code in quoted:
        assert any(code in text for text in texts), '%s quotes `%s`, in none of %s' % (
            where,
            code,
            [c[2] for c in citations],
        )


@pytest.mark.parametrize('where, text, source', list(explanations()), ids=lambda v: str(v)[:60])
def test_an_explanation_cites_code_exactly_and_the_installed_code_agrees(where, text, source):
    for part in (part.strip() for part in source.split(';')):
        cited = bool(CITATION.search(part) or OTHER_SOURCE.search(part))
        assert cited, '%s cites %r: not package, version, file and symbol' % (where, part)
    check(CITATION.findall(source), re.findall(r'`([^`]+)`', text), where)


@pytest.mark.parametrize('page', PAGES)
def test_a_page_cites_code_exactly_and_the_installed_code_agrees(page):
    with open(os.path.join(ROOT, page), encoding='utf-8') as handle:
        text = handle.read()
    for number, paragraph in enumerate(text.split('\n\n')):
        flat = ' '.join(paragraph.split())
        bare = LIBRARY_FILE.findall(CITATION.sub('', flat))
        assert bare == [], '%s: %s named without package, version and symbol' % (page, bare)
        citations = CITATION.findall(flat)
        # Code quoted in a paragraph that cites is looked for in what it cites.
        check(citations, [], '%s paragraph %d' % (page, number))


def test_a_wrong_citation_is_found():
    layers = ('channels', pins('2.4')['channels'], 'channels/layers.py')
    with pytest.raises(AssertionError, match='has no'):
        check([layers + ('NoSuchLayer',)], [], 'x')
    with pytest.raises(AssertionError, match='no generation pins'):
        check([('channels', '9.9.9', 'channels/layers.py', 'get_channel_layer')], [], 'x')
    with pytest.raises(AssertionError, match='quotes'):
        check([layers + ('get_channel_layer',)], ['no code'], 'x')
