"""
A tuning step of the benchmark (legacy stack, CPython 3.5/3.6): SQLite in
write-ahead-log mode with synchronous=NORMAL, set on each new connection
through Django's connection_created signal (there since Django 1.1). A
commit then writes the log without waiting for the disk; the disk catches
up at each checkpoint. A power cut can lose the last commits, never corrupt
the file; a crashed process loses nothing.
"""

from django.db.backends.signals import connection_created

from vikander.settings import *


def write_ahead(sender, connection, **kwargs):
    if connection.vendor == 'sqlite':
        cursor = connection.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute('PRAGMA synchronous=NORMAL')


connection_created.connect(write_ahead)
