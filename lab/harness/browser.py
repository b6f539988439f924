"""
A real headless Chromium on a stack's pages, for the browser and cluster
suites: the page's sockets watched from before any page script runs, the
chat form filled in as a person would, and every wait going through
harness.stack.wait_for, so that a wait that times out says what the page
showed instead: its address, its text, its sockets, the console, and what
the browser asked the network for and heard back. Needs Selenium (the
tools' virtualenv).
"""

import json
import os
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from lab.harness.stack import wait_for

__all__ = [
    'Browsers',
    'describe',
    'messages',
    'open_page',
    'open_room',
    'rows',
    'say',
    'severe',
    'sockets',
    'unsettled_interfaces',
    'wait_connected',
    'wait_messages',
    'wait_settled',
    'wait_sockets',
]

# Headless as root on a machine with no network but loopback: these keep
# Chromium from phoning home and failing noisily. The proxies'
# certificates are self-signed (ops/proxy).
FLAGS = (
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--window-size=1000,700',
    '--ignore-certificate-errors',
)

# Installed before any page script runs: remembers every WebSocket the page
# opens, so a test can wait for "connected" instead of sleeping, and records
# alert() calls, which every XSS payload would make if it ran.
WATCH_SOCKETS = """
window.__sockets = [];
var Native = window.WebSocket;
window.WebSocket = function (url, protocols) {
    var sock = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.__sockets.push(sock);
    return sock;
};
['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (name) {
    window.WebSocket[name] = Native[name];
});
window.WebSocket.prototype = Native.prototype;
window.__alerts = [];
window.alert = function (text) { window.__alerts.push(String(text)); };
"""


class Browsers(object):
    """Starts Chromiums, each with a profile of its own; `quit` ends them all."""

    def __init__(self):
        self.drivers, self.profiles = [], []

    def __call__(self):
        self.profiles.append(tempfile.mkdtemp(prefix='chromium-'))
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
        for flag in FLAGS + ('--user-data-dir=' + self.profiles[-1],):
            options.add_argument(flag)
        # The console, and the network as the DevTools protocol reports it.
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
        service = Service(shutil.which('chromedriver') or '/usr/bin/chromedriver')
        driver = webdriver.Chrome(options=options, service=service)
        driver.set_page_load_timeout(30)
        self.drivers.append(driver)
        return driver

    def quit(self):
        for driver in self.drivers:
            driver.quit()
        for profile in self.profiles:
            shutil.rmtree(profile, ignore_errors=True)


IFA_F_TENTATIVE = 0x40


def unsettled_interfaces():
    """The host's interfaces that are up but have not finished configuring
    their IPv6 addresses: none yet, or one still tentative (duplicate
    address detection). Chromium fails every request in flight with
    ERR_NETWORK_CHANGED when an address appears on any interface, loopback
    requests too, and each container Docker starts or restarts brings a veth
    that gets its link-local address a second or so after it comes up: a
    page opened just after a cluster test restarted a container was cut
    short 4 ms after the new veth's address appeared (docs/cluster.md)."""
    addresses = {}
    if os.path.exists('/proc/net/if_inet6'):
        with open('/proc/net/if_inet6') as table:
            for line in table:
                fields = line.split()
                addresses.setdefault(fields[5], []).append(int(fields[4], 16))
    unsettled = []
    for name in os.listdir('/sys/class/net'):
        if read('/sys/class/net/%s/operstate' % name) != 'up' or not addresses_expected(name):
            continue
        flags = addresses.get(name, [])
        if not flags or any(flag & IFA_F_TENTATIVE for flag in flags):
            unsettled.append(name)
    return sorted(unsettled)


def addresses_expected(name):
    conf = '/proc/sys/net/ipv6/conf/%s/' % name
    return read(conf + 'disable_ipv6') == '0' and read(conf + 'addr_gen_mode') != '1'


def read(path):
    try:
        with open(path) as source:
            return source.read().strip()
    except OSError:
        return None


def wait_settled():
    """Until no interface of the host is configuring an address, so that a
    navigation is not cut short by one (ERR_NETWORK_CHANGED)."""
    wait_for(
        lambda: not unsettled_interfaces(),
        30,
        "the host's interfaces to finish configuring",
        seen=lambda: 'still configuring: %s' % ' '.join(unsettled_interfaces()),
    )


def open_page(browsers, url):
    wait_settled()
    page = browsers()
    page.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': WATCH_SOCKETS})
    try:
        page.get(url)
    except WebDriverException as error:
        raise RuntimeError(
            'the browser did not load %s: %s\n  %s' % (url, error.msg, describe(page))
        )
    return page


def open_room(browsers, stack, label):
    page = open_page(browsers, '%s/chat/%s/' % (stack.url, label))
    wait_connected(page)
    return page


def sockets(page):
    """[(url, readyState)] of every WebSocket the page opened, oldest first."""
    return [
        tuple(s)
        for s in page.execute_script(
            'return (window.__sockets || []).map(function (s) { return [s.url, s.readyState]; });'
        )
    ]


def wait_sockets(page, count, timeout=30):
    """Until the page has opened `count` sockets and its newest is open."""

    def opened():
        found = sockets(page)
        return len(found) >= count and found[-1][1] == 1

    wait_for(
        opened,
        timeout,
        '%d socket(s) opened by the page, the newest open' % count,
        seen=lambda: describe(page),
    )


def wait_connected(page, timeout=30):
    wait_sockets(page, 1, timeout)


def say(page, handle, message):
    handle_input = page.find_element(By.ID, 'handle')
    handle_input.clear()
    handle_input.send_keys(handle)
    page.find_element(By.ID, 'message').send_keys(message)
    page.find_element(By.ID, 'go').click()


def rows(page):
    cells = page.execute_script(
        "return $('#chat tr').map(function () {"
        "  var td = $(this).find('td'); return td.length === 3 ? [td.map(function () {"
        '    return $(this).text(); }).get()] : null; }).get();'
    )
    return [tuple(row) for row in cells]


def messages(page):
    return [row[1:] for row in rows(page)]


def wait_messages(page, expected, timeout=15):
    wait_for(
        lambda: messages(page) == expected,
        timeout,
        'the page to show %r' % (expected,),
        seen=lambda: describe(page),
    )


def severe(page):
    # Chromium asks for /favicon.ico on its own; the post ships none, and that
    # 404 is the browser's request, not the page's.
    return [
        entry['message']
        for entry in page.get_log('browser')
        if entry['level'] == 'SEVERE' and '/favicon.ico ' not in entry['message']
    ]


# What describe() keeps of the DevTools network events: a request, its
# answer, its failure, and a socket's handshake and close.
NETWORK = {
    'Network.requestWillBeSent': lambda p: '%s %s' % (p['request']['method'], p['request']['url']),
    'Network.responseReceived': lambda p: '%s %s' % (p['response']['status'], p['response']['url']),
    'Network.loadingFailed': lambda p: (
        'failed %s%s' % (p.get('errorText'), ' (canceled)' if p.get('canceled') else '')
    ),
    'Network.webSocketCreated': lambda p: 'socket %s' % p['url'],
    'Network.webSocketHandshakeResponseReceived': lambda p: (
        'socket answered %s' % p['response']['status']
    ),
    'Network.webSocketClosed': lambda _: 'socket closed',
    'Network.webSocketFrameError': lambda p: 'socket error %s' % p.get('errorMessage'),
}


def clock(milliseconds):
    """The time of day of a browser log entry, to the millisecond (UTC)."""
    return time.strftime('%H:%M:%S', time.gmtime(milliseconds / 1000)) + '.%03d' % (
        milliseconds % 1000
    )


def describe(page):
    """What a person would see of the page, and what the browser did for it."""
    try:
        state = page.execute_script(
            'return [location.href, document.title, document.readyState,'
            ' (document.body ? document.body.innerText : "").slice(0, 300)];'
        )
        seen = ['address %s, title %r, %s; text %r' % tuple(state), 'sockets %r' % (sockets(page),)]
    except Exception as error:  # a page that cannot run a script is news too
        seen = ['no script ran on the page: %r' % error]
    seen += [
        '%s console %s %s' % (clock(entry['timestamp']), entry['level'], entry['message'])
        for entry in page.get_log('browser')
    ]
    for entry in page.get_log('performance'):
        event = json.loads(entry['message'])['message']
        if event['method'] in NETWORK:
            seen.append(
                '%s network %s'
                % (clock(entry['timestamp']), NETWORK[event['method']](event['params']))
            )
    return '\n  '.join(seen)
