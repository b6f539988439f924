"""
`make fidelity`: every hunk between the post's code (docs/post.md) and the
replica names its ledger entry. That docs/generated/fidelity.md is the
current report lab/qa/test_fidelity_page.py checks: the page is rendered
with Jinja2, which this virtualenv lacks.
"""

import os

import pytest

from lab.harness.post import Snippet, read
from lab.harness.stack import ROOT
from lab.qa import fidelity


def test_every_hunk_names_a_ledger_entry():
    _, unledgered, _ = fidelity.report()
    assert unledgered == []


@pytest.mark.skipif(
    not os.path.exists(fidelity.POST_TEXT), reason='the post itself is not beside the project'
)
def test_the_kept_copy_is_the_posts_code():
    _, _, unlike = fidelity.report()
    assert len(fidelity.snippets()) == 13 and unlike == []


def test_an_unmarked_change_is_caught(tmpdir):
    # The check itself can fail: a post line changed with no marker above it.
    snippet = Snippet(
        99,
        'chat/routing.py',
        None,
        read(os.path.join(ROOT, 'chat', 'routing.py')).replace('ws_receive)', 'ws_other)'),
    )
    assert [hunk.ids for hunk in fidelity.hunks(snippet)] == [[]]


def test_a_later_assignment_into_a_fragment_is_a_hunk():
    # The post's CHANNEL_LAYERS stands as printed, but a line after it names
    # another backend: the report shows that line with its ledger entries.
    (layers,) = [s for s in fidelity.snippets() if s.title.endswith('(CHANNEL_LAYERS)')]
    assert [(hunk.replica[-1], hunk.ids) for hunk in fidelity.hunks(layers)] == [
        (
            'CHANNEL_LAYERS["default"]["BACKEND"] = "vikander.layers.RedisChannelLayer"',
            ['C20', 'C21'],
        )
    ]
