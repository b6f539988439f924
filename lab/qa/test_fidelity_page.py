"""
docs/generated/fidelity.md is the current report: the page the post's
blocks against the replica render to now. Checked here, on the tools'
Python, as the page is rendered with Jinja2, which the legacy tests
(tests/test_fidelity.py, the other checks of `make fidelity`) lack.
"""

from lab import pages
from lab.qa import fidelity


def test_the_committed_report_is_current():
    sections = fidelity.report()[0]
    with open(fidelity.REPORT, encoding='utf-8') as handle:
        assert handle.read() == pages.render('fidelity.md', sections=sections), 'run make fidelity'
