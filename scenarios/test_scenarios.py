"""
Every scenario on every stack in STACKS, each observation checked against
the one recorded for that stack in expected.json, so a change in either
stack's behaviour fails the run. RECORD=1 records instead of checking.
"""
import json
import os

import pytest

from scenarios import SCENARIOS

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_PATH = os.path.join(HERE, 'expected.json')
OBSERVED = {}


def expected():
    with open(EXPECTED_PATH) as handle:
        return json.load(handle)


@pytest.mark.parametrize('run', SCENARIOS, ids=[run.__name__ for run in SCENARIOS])
def test_scenario(stack, run):
    observed = json.loads(json.dumps(run(stack)))  # as the report stores it
    OBSERVED.setdefault(stack.name, {})[run.__name__] = observed
    if not os.environ.get('RECORD'):
        assert observed == expected()[stack.name][run.__name__]
