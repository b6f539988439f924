"""
`make tutorial-check`: a workspace's own settings (run from the workspace),
on the check's database instead of the learner's, so checking writes
nothing of theirs.
"""

import os

from vikander.settings import *

DATABASES = {
    'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': os.environ['TUTORIAL_CHECK_DB']}
}
