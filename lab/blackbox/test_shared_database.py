"""
One SQLite file, migrated and used by both stacks in turn: each sees the
other's rooms and messages (the same schema, and migrations that agree).
"""

from lab.harness.client import history, join, next_event, say
from lab.harness.stack import Stack


def chat_once(generation, database, label, text):
    with Stack(generation, env={'DATABASE_URL': 'sqlite:///' + database}) as stack:
        sock = join(stack, label)
        say(sock, generation, text)
        assert next_event(sock, 10)[0] == 'frame'
        sock.close()
        return history(stack, label)


def test_both_stacks_share_one_database(tmp_path):
    database = str(tmp_path / 'db.sqlite3')
    assert chat_once('1.0', database, 'shared-room', 'from 1.x') == [('1.0', 'from 1.x')]
    assert chat_once('4.3', database, 'shared-room', 'from 4') == [
        ('1.0', 'from 1.x'),
        ('4.3', 'from 4'),
    ]
    assert chat_once('1.0', database, 'shared-room', 'again') == [
        ('1.0', 'from 1.x'),
        ('4.3', 'from 4'),
        ('1.0', 'again'),
    ]
