"""
The modern port's trail: Redis's own MONITOR, read from outside, every
command any client sends as it happens, with the server's timestamp and
the client's address; the process behind each client address is found in
/proc (both run on this machine). Its Pub/Sub layer sends few commands; the
replica's polls many times a second, so it publishes its own (lab/tracing/pubsub.py).
"""

import os
import re
import socket
import struct

LINE = re.compile(rb'^\+(\d+\.\d+) \[(\d+) ([^\]]+)\] "([a-zA-Z]+)"(.*)$')
ARGUMENT = re.compile(r'"((?:[^"\\]|\\.)*)"')
ESCAPE = re.compile(r'\\(x[0-9a-fA-F]{2}|.)')
ESCAPES = {'n': '\n', 'r': '\r', 't': '\t', 'a': '\a', 'b': '\b'}


def unescape(match):
    code = match.group(1)
    return chr(int(code[1:], 16)) if code[0] == 'x' else ESCAPES.get(code, code)


def arguments(text):
    """The quoted, C-escaped arguments of one MONITOR line, as bytes."""
    return [ESCAPE.sub(unescape, value).encode('latin-1') for value in ARGUMENT.findall(text)]


def commands(host, port, wanted, stop=None):
    """(timestamp, database, client, [command, arg, ...]) for each command in
    `wanted` (lower-case bytes) that a client (not a script) sends Redis, until the
    connection ends or `stop()` is true; None once Redis has started
    monitoring, and after each read. The rest is skipped before it is
    parsed: under load MONITOR prints thousands of lines a second."""
    sock = socket.create_connection((host, port))
    sock.settimeout(0.5)
    sock.sendall(b'MONITOR\r\n')
    pending, ready = b'', False
    try:
        while not (stop and stop()):
            try:
                data = sock.recv(1 << 16)
            except socket.timeout:
                if ready:
                    yield None
                continue
            if not data:
                return
            pending += data
            *lines, pending = pending.split(b'\r\n')
            for raw in lines:
                ready = ready or raw == b'+OK'
                if b' lua] ' in raw[:40]:
                    continue  # commands run inside a script: the script's call says it all
                match = LINE.match(raw)
                if not match:
                    continue
                command = match.group(4).lower()
                if command not in wanted:
                    continue
                yield (
                    float(match.group(1)),
                    int(match.group(2)),
                    match.group(3).decode(),
                    [command] + arguments(match.group(5).decode('latin-1')),
                )
            if ready:
                yield None
    finally:
        sock.close()


def local_addresses(pids):
    """{socket inode: 'address:port'} for the TCP sockets of every network
    namespace the given processes are in (a container's too). IPv6 sockets
    are taken as 127.0.0.1's, as a local client reaches them."""
    found, namespaces = {}, set()
    for pid in pids:
        try:
            namespace = os.readlink('/proc/%s/ns/net' % pid)
        except OSError:
            continue
        if namespace in namespaces:
            continue
        namespaces.add(namespace)
        for table in ('tcp', 'tcp6'):
            try:
                with open('/proc/%s/net/%s' % (pid, table)) as rows:
                    next(rows)
                    for row in rows:
                        fields = row.split()
                        address, port = fields[1].rsplit(':', 1)
                        if table == 'tcp':
                            address = socket.inet_ntoa(struct.pack('<I', int(address, 16)))
                        else:
                            address = '127.0.0.1'
                        found[fields[9]] = '%s:%d' % (address, int(port, 16))
            except OSError:
                pass
    return found


def processes():
    """{'address:port': 'name pid'} for every TCP socket of a process of
    this machine, in a container or not."""
    pids = list(filter(str.isdigit, os.listdir('/proc')))
    addresses = local_addresses(pids)
    owners = {}
    for pid in pids:
        try:
            fds = os.listdir('/proc/%s/fd' % pid)
            with open('/proc/%s/cmdline' % pid, 'rb') as cmdline:
                argv = cmdline.read().decode('utf-8', 'replace').split('\0')
        except OSError:
            continue
        name = process_name(argv)
        for fd in fds:
            try:
                target = os.readlink('/proc/%s/fd/%s' % (pid, fd))
            except OSError:
                continue
            if target.startswith('socket:[') and target[8:-1] in addresses:
                owners[addresses[target[8:-1]]] = '%s %s' % (name, pid)
    return owners


def process_name(argv):
    joined = ' '.join(argv)
    for name in ('runworker', 'daphne'):
        if name in joined:
            return name
    return os.path.basename(argv[0]) if argv and argv[0] else '?'


class Clients(object):
    """The process behind each client address, looked up once."""

    def __init__(self):
        self.known = {}

    def __call__(self, address):
        if address not in self.known:
            self.known.update(processes())
            self.known.setdefault(address, address)
        return self.known[address]
