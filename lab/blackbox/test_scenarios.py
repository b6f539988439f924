"""
Every scenario on every generation (GENERATIONS: the post, Channels
1.1, 2.4 and 3.0, the port), each observation checked against the one
recorded for that generation in expected.json, so a change in any stack's
behaviour fails the run. RECORD=1 records instead of checking; STACKS=
names fewer. The report's explanations must match the recorded changes
from each generation to the next exactly.
"""

import json
import os

import pytest

from lab.blackbox import comparison
from lab.blackbox.comparison import expected
from lab.blackbox.scenarios import MACHINE_BOUND, SCENARIOS
from lab.harness.stack import GENERATIONS, selected


@pytest.mark.parametrize('stack', selected(GENERATIONS), indirect=True, scope='module')
@pytest.mark.parametrize('run', SCENARIOS, ids=[run.__name__ for run in SCENARIOS])
def test_scenario(stack, run):
    observed = json.loads(json.dumps(run(stack)))  # as the report stores it
    comparison.OBSERVED.setdefault(stack.generation, {})[run.__name__] = observed
    if not os.environ.get('RECORD'):
        assert asserted(run, observed) == asserted(run, expected()[stack.generation][run.__name__])


def asserted(run, observation):
    """An observation without what depends on this machine's speed, which
    the report shows and `make bench` measures."""
    return {
        key: value for key, value in observation.items() if key != MACHINE_BOUND.get(run.__name__)
    }


def test_every_change_is_explained_with_its_source_and_every_explanation_is_a_change():
    recorded = expected()
    names = sorted(run.__name__ for run in SCENARIOS)
    assert {generation: sorted(recorded[generation]) for generation in GENERATIONS} == {
        generation: names for generation in GENERATIONS
    }
    changed = {name: comparison.changes(recorded, name) for name in names}
    explained = comparison.explanations()
    assert {name: sorted(why) for name, why in explained.items()} == {
        name: sorted(generations) for name, generations in changed.items() if generations
    }
    for why in explained.values():
        for text, source in why.values():
            assert text.strip() and source.strip()


def test_recording_some_scenarios_keeps_the_other_expectations(tmp_path):
    path = str(tmp_path / 'expected.json')
    comparison.record({'1.0': {'a': 1, 'b': 2}, '4.3': {'a': 1, 'b': 3}}, path)
    comparison.record({'1.0': {'b': 4}}, path)
    with open(path, encoding='utf-8') as handle:
        assert json.load(handle) == {'1.0': {'a': 1, 'b': 4}, '4.3': {'a': 1, 'b': 3}}
