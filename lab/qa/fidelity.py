"""
The post against the replica, mechanically: each of the post's code blocks
(docs/post.md) is diffed against the file the post names, and every hunk
that differs must name its entry in docs/deviations.md. Writes
docs/generated/fidelity.md from lab/templates/fidelity.md.

A hunk names an entry with a comment saying "Deviation C5" (or
"Deviations C1, C2 and C12") on one of its own lines, or in the comment
lines directly above it. Blank lines, indentation and trailing spaces are
not compared: the post's page lost them.

    python -m lab.qa.fidelity     (from the repository root) writes
                              docs/generated/fidelity.md; exit 1 on an unledgered hunk

Valid Python 3.5, and the findings need only the standard library: the
legacy tests read them. Only main() renders the page, with Jinja2.
"""

import collections
import difflib
import os
import re
import sys

from lab import pages
from lab.harness.post import read, snippets
from lab.harness.stack import ROOT

LEDGER = os.path.join(ROOT, 'docs', 'deviations.md')
REPORT = os.path.join(pages.DOCS, 'fidelity.md')
# The post itself, where the project's shared folder lies beside it.
POST_TEXT = os.path.join(
    os.path.dirname(ROOT), 'shared', 'tutorial', 'channels-chat-tutorial.ko.txt'
)
COMMENT = re.compile(r'^\s*(#|//|\{#|<!--)')
# A block of the post and what the page shows of each of its hunks: the
# ledger entries it names that the ledger holds, and its diff.
Section = collections.namedtuple('Section', 'title hunks')
Shown = collections.namedtuple('Shown', 'ids diff')


def flattened(text):
    return ' '.join(text.split())


def posts_blocks(post_text=POST_TEXT):
    """The post's code blocks as its page shows them, flattened."""
    return [
        flattened(code) for code in re.findall(r'^[\d ]+ \| (.*) \| cs \|$', read(post_text), re.M)
    ]


def replica_lines(snippet):
    lines = read(os.path.join(ROOT, snippet.path)).splitlines()
    if not snippet.fragment:
        return lines
    # A fragment: from its first line to the first line that closes it at
    # the same indentation (`]` or `}`), then every later line that assigns
    # into the same name (`NAME[...] = ...`), which changes what it says,
    # with the comment lines directly above it.
    first, last = snippet.text.splitlines()[0], snippet.text.splitlines()[-1]
    start = lines.index(first)
    end = next(n for n in range(start + 1, len(lines)) if lines[n] == last)
    name = first.split('=')[0].strip()
    kept = lines[start : end + 1]
    for n in range(end + 1, len(lines)):
        if lines[n].startswith(name + '['):
            above = n
            while COMMENT.match(lines[above - 1]):
                above -= 1
            kept.extend(lines[above : n + 1])
    return kept


def ledger_ids(lines):
    ids = set()
    for line in lines:
        if 'Deviation' in line:
            ids.update(re.findall(r'\b[A-Z]\d+\b', line))
    return ids


class Hunk(object):
    def __init__(self, post, replica, ids):
        self.post, self.replica, self.ids = (
            post,
            replica,
            sorted(ids, key=lambda i: (i[0], int(i[1:]))),
        )

    def diff(self):
        return ['-' + line for line in self.post] + ['+' + line for line in self.replica]


def hunks(snippet):
    post = [line for line in snippet.text.splitlines() if line.strip()]
    lines = replica_lines(snippet)
    numbered = [(n, line) for n, line in enumerate(lines) if line.strip()]
    matcher = difflib.SequenceMatcher(
        None,
        [line.strip() for line in post],
        [line.strip() for _, line in numbered],
        autojunk=False,
    )
    found = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == 'equal':
            continue
        changed = [line for _, line in numbered[j1:j2]]
        # The comment lines directly above the hunk in the replica's file.
        at = numbered[j1][0] if j1 < len(numbered) else len(lines)
        above = []
        while at > 0 and COMMENT.match(lines[at - 1]):
            at -= 1
            above.append(lines[at])
        found.append(Hunk(post[i1:i2], changed, ledger_ids(changed + above)))
    return found


def known_ids(ledger=LEDGER):
    return set(re.findall(r'^\| ([A-Z]\d+) \|', read(ledger), re.M))


def report():
    """(the page's sections, titles of unledgered hunks, blocks unlike the
    post's page)."""
    known = known_ids()
    blocks = posts_blocks() if os.path.exists(POST_TEXT) else None
    sections, unledgered, unlike = [], [], []
    for snippet in snippets():
        if blocks is not None and flattened(snippet.text) not in blocks:
            unlike.append(snippet.title)
        shown = []
        for hunk in hunks(snippet):
            ids = [i for i in hunk.ids if i in known]
            if not ids:
                unledgered.append(snippet.title)
            shown.append(Shown(ids, hunk.diff()))
        sections.append(Section(snippet.title, shown))
    return sections, unledgered, unlike


def main(folder=pages.DOCS):
    """Writes the page into `folder` and says what is wrong."""
    sections, unledgered, unlike = report()
    path = pages.write('fidelity.md', folder=folder, sections=sections)
    print('wrote %s' % os.path.relpath(path, ROOT))
    if not os.path.exists(POST_TEXT):
        print('the post itself is not at %s: docs/post.md not checked against it' % POST_TEXT)
    for title in unlike:
        print('docs/post.md differs from the post: %s' % title)
    for title in unledgered:
        print('a hunk with no ledger entry: %s' % title)
    return 1 if unledgered or unlike else 0


if __name__ == '__main__':
    sys.exit(main())
