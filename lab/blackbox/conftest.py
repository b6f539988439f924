"""
Fixtures for the black-box suites: they reach a stack only through HTTP,
WebSocket and a browser on its URL, and import neither codebase.
"""

import json
import os

import pytest

from lab.blackbox import comparison
from lab.harness.stack import GENERATIONS, ROOT, Stack, selected

ARTEFACTS = os.path.join(ROOT, 'artefacts')


@pytest.fixture(scope='module', params=selected())
def stack(request):
    # The post and the port; the scenarios, the fuzz and the paths
    # parametrize it over every generation instead.
    with Stack(request.param) as running:
        yield running


@pytest.fixture
def browser_factory():
    from lab.harness.browser import Browsers

    browsers = Browsers()
    yield browsers
    browsers.quit()


@pytest.fixture(scope='session')
def artefacts():
    os.makedirs(ARTEFACTS, exist_ok=True)
    return ARTEFACTS


def pytest_terminal_summary(terminalreporter):
    """Keeps what was observed, records it under RECORD=1, and with every
    generation observed writes the comparison and prints its table."""
    observed = comparison.OBSERVED
    if not observed:
        return
    os.makedirs(ARTEFACTS, exist_ok=True)
    with open(comparison.OBSERVED_PATH, 'w', encoding='utf-8') as handle:
        json.dump(observed, handle, indent=2, ensure_ascii=False)
    if os.environ.get('RECORD'):
        comparison.record(observed, comparison.EXPECTED_PATH)
    if set(observed) == set(GENERATIONS):
        comparison.write(observed, ARTEFACTS)
        terminalreporter.write(comparison.markdown(observed))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test on a cluster carries its containers' last log lines, so
    a fault seen once in CI can still be read afterwards."""
    result = (yield).get_result()
    cluster = item.funcargs.get('cluster') if result.failed else None
    if cluster is not None:
        logs = cluster.compose('logs', '--no-color', '--tail=40', check=False).stdout
        result.sections.append(("the cluster's containers, last 40 lines each", logs))
