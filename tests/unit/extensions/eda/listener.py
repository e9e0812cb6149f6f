# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the registry_events source's main() in a background thread, as ansible-rulebook runs it.

The tests send real HTTP requests (requests, skopeo pushes through a real registry) from the test's
own thread and read what main() put on its queue.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import contextlib
import queue as queue_module
import socket
import threading
import time

from ansible_collections.oci.registry.extensions.eda.plugins.event_source import registry_events

READY_TIMEOUT = 15.0


class ThreadQueue:
    """What main() needs of an asyncio.Queue (put), handing events to the test thread."""

    def __init__(self):
        self.events = queue_module.Queue()

    async def put(self, event):
        self.events.put(event)

    def get(self, timeout):
        return self.events.get(timeout=timeout)

    def drain(self):
        items = []
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue_module.Empty:
                return items


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port, thread, failure):
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if failure:
            raise failure[0]
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if not thread.is_alive():
            break
        time.sleep(0.05)
    raise RuntimeError("registry_events did not listen on port %d" % port)


@contextlib.contextmanager
def running(args):
    """Start main(queue, args) (port added when missing); yield (queue, base URL); cancel it afterwards."""
    args = dict(args)
    args.setdefault("port", free_port())
    args.setdefault("host", "127.0.0.1")
    events = ThreadQueue()
    loop = asyncio.new_event_loop()
    failure = []
    task_box = []

    def serve():
        asyncio.set_event_loop(loop)
        task = loop.create_task(registry_events.main(events, args))
        task_box.append(task)
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # pylint: disable=broad-exception-caught
            failure.append(error)
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name="registry_events", daemon=True)
    thread.start()
    try:
        _wait_listening(int(args["port"]), thread, failure)
        scheme = "https" if args.get("certfile") else "http"
        yield events, "%s://127.0.0.1:%d" % (scheme, int(args["port"]))
        # The listener must have survived whatever the test sent.
        assert thread.is_alive(), "the listener stopped: %r" % (failure,)
    finally:
        if task_box and thread.is_alive():
            loop.call_soon_threadsafe(task_box[0].cancel)
        thread.join(10)
