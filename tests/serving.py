"""A real waitress server in a thread for the tests, stopped cleanly.

waitress's `server.run()` polls its sockets until the process ends; closing
the server from another thread while it polls makes that poll fail (EBADF) in
the server's thread. Here the thread polls in short turns and closes the
server itself when asked to stop.
"""

import threading


def start(server):
    """Serve `server` (waitress.create_server's) in a daemon thread; returns stop(), which closes it and waits."""
    stopping = threading.Event()

    def run():
        try:
            while not stopping.is_set():
                server.asyncore.loop(timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
        finally:
            server.close()
            server.task_dispatcher.shutdown()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def stop():
        stopping.set()
        thread.join(30)

    return stop
