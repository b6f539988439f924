import os
import sys

# The stack launcher in tools/ is shared with the scenario suite.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
