"""
The post against the replica, mechanically: each of the post's code blocks
(docs/post.md) is diffed against the file the post names, and every hunk
that differs must name its entry in docs/deviations.md.

A hunk names an entry with a comment saying "Deviation C5" (or
"Deviations C1, C2 and C12") on one of its own lines, or in the comment
lines directly above it. Blank lines, indentation and trailing spaces are
not compared: the post's page lost them.

    python -m lab.qa.fidelity     (from the repository root) writes
                              docs/generated/fidelity.md; exit 1 on an unledgered hunk

Valid Python 3.5, standard library only: the legacy tests use it too.
"""

import difflib
import io
import os
import re
import sys

from lab.harness.post import ROOT, read, snippets

LEDGER = os.path.join(ROOT, 'docs', 'deviations.md')
REPORT = os.path.join(ROOT, 'docs', 'generated', 'fidelity.md')
# The post itself, where the project's shared folder lies beside it.
POST_TEXT = os.path.join(
    os.path.dirname(ROOT), 'shared', 'tutorial', 'channels-chat-tutorial.ko.txt'
)
COMMENT = re.compile(r'^\s*(#|//|\{#|<!--)')


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
    """(Markdown report, titles of unledgered hunks, blocks unlike the post's page)."""
    known = known_ids()
    blocks = posts_blocks() if os.path.exists(POST_TEXT) else None
    out = [
        '# The post against the replica',
        '',
        "Written by `make fidelity` (lab/qa/fidelity.py) from [post.md](../post.md), the post's",
        'thirteen code blocks, and the files that hold them. `-` is the post, `+` the replica;',
        'blank lines and indentation are not compared. Every hunk names its entry in the',
        '[ledger](../deviations.md).',
        '',
    ]
    unledgered, unlike = [], []
    for snippet in snippets():
        if blocks is not None and flattened(snippet.text) not in blocks:
            unlike.append(snippet.title)
        found = hunks(snippet)
        out.append('## %s' % snippet.title)
        out.append('')
        if not found:
            out.extend(['As printed.', ''])
        for hunk in found:
            ids = [i for i in hunk.ids if i in known]
            if not ids:
                unledgered.append(snippet.title)
            out.append('Ledger: %s' % (', '.join(ids) if ids else '**none: not in the ledger**'))
            out.extend(['', '```diff'] + hunk.diff() + ['```', ''])
    return '\n'.join(out), unledgered, unlike


def main():
    text, unledgered, unlike = report()
    with io.open(REPORT, 'w', encoding='utf-8') as handle:
        handle.write(text)
    print('wrote %s' % os.path.relpath(REPORT, ROOT))
    if not os.path.exists(POST_TEXT):
        print('the post itself is not at %s: docs/post.md not checked against it' % POST_TEXT)
    for title in unlike:
        print('docs/post.md differs from the post: %s' % title)
    for title in unledgered:
        print('a hunk with no ledger entry: %s' % title)
    return 1 if unledgered or unlike else 0


if __name__ == '__main__':
    sys.exit(main())
