"""Live delivery: how a message reaches every open session, in whichever process holds it.

A live message travels in three steps, one module each:

1. ``publisher`` — synchronous code (views, Celery tasks, management commands)
   hands a batch of ``(group, payload)`` pairs to the channel layer after its
   transaction commits, in one layer round trip per batch, from one long-lived
   event loop per process.
2. the channel layer carries the batch to every process that holds sockets:
   ``redis_layer`` (Redis pub/sub, production) or ``feed_layer`` (a shared
   SQLite file, the embedded default, which needs no server).
3. each transport's front end (``inbox.consumers`` for WebSockets,
   ``inbox.api.stream`` for SSE and long-polling, ``inbox.socketio`` for
   Socket.IO) receives it and writes it to its sockets.
"""
