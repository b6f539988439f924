"""
Every scenario on every stack in STACKS, each observation checked against
the one recorded for that stack in expected.json, so a change in either
stack's behaviour fails the run. RECORD=1 records instead of checking.
The report's explanations must match the recorded differences exactly.
"""

import json
import os

import pytest

from lab.blackbox import comparison
from lab.blackbox.comparison import expected
from lab.blackbox.scenarios import MACHINE_BOUND, SCENARIOS


@pytest.mark.parametrize('run', SCENARIOS, ids=[run.__name__ for run in SCENARIOS])
def test_scenario(stack, run):
    observed = json.loads(json.dumps(run(stack)))  # as the report stores it
    comparison.OBSERVED.setdefault(stack.kind, {})[run.__name__] = observed
    if not os.environ.get('RECORD'):
        assert asserted(run, observed) == asserted(run, expected()[stack.kind][run.__name__])


def asserted(run, observation):
    """An observation without what depends on this machine's speed, which
    the report shows and `make bench` measures."""
    return {
        key: value for key, value in observation.items() if key != MACHINE_BOUND.get(run.__name__)
    }


def test_every_difference_is_explained_and_every_explanation_is_a_difference():
    recorded = expected()
    names = [run.__name__ for run in SCENARIOS]
    assert sorted(recorded['legacy']) == sorted(recorded['modern']) == sorted(names)
    differing = sorted(
        name for name in names if recorded['legacy'][name] != recorded['modern'][name]
    )
    assert sorted(comparison.explanations()) == differing


def test_recording_some_scenarios_keeps_the_other_expectations(tmp_path):
    path = str(tmp_path / 'expected.json')
    comparison.record({'legacy': {'a': 1, 'b': 2}, 'modern': {'a': 1, 'b': 3}}, path)
    comparison.record({'legacy': {'b': 4}}, path)
    with open(path, encoding='utf-8') as handle:
        assert json.load(handle) == {'legacy': {'a': 1, 'b': 4}, 'modern': {'a': 1, 'b': 3}}
