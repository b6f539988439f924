"""
docs/generated/migrating.md is current: the page the trees, their pins and
the recorded comparison render to now.
"""

from lab import migrating


def test_the_committed_migration_page_is_current():
    with open(migrating.PAGE, encoding='utf-8') as handle:
        assert handle.read() == migrating.render(), 'run make migrating'
