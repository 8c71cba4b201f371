"""A request body from a sync iterator, read in a worker thread ahead of the app.

Rule: the test's iterator (a file, a multipart upload, a generator) is never
read on the app's loop: a file read would block the loop, and an iterator that
waits for the app would never see it answer. One worker thread reads it for the
whole request and hands each chunk over as soon as it has it, at most
``READ_AHEAD`` bytes ahead of the app, rather than one thread hop per chunk.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

from ._backends import Backend

#: How far (in bytes) the reader may run ahead of the app.
READ_AHEAD = 1024 * 1024

#: ``take()`` has nothing yet: wait for the reader's wake-up.
NOTHING = object()
#: The iterator is exhausted.
END = object()


def _size(item: object) -> int:
    return len(item) if isinstance(item, bytes | bytearray | memoryview) else 0


class BodyReader:
    """The thread reading one request's body; the app's side takes what it read.

    Args:
        iterator: the test's body.
        backend: the loop the app runs on.
        wake: called on that loop when something arrives while the app waits.
    """

    def __init__(self, iterator: Iterator[object], backend: Backend, wake: Callable[[], None]):
        self._iterator = iterator
        self._backend = backend
        self._wake = wake
        self._cond = threading.Condition(threading.Lock())
        self._items: deque[object] = deque()  # chunks, then END or the iterator's exception
        self._buffered = 0
        self._app_waiting = False
        self._stopped = False
        backend.start_thread(self._read)

    def take(self) -> object:
        """The next chunk, ``END``, or ``NOTHING`` (the app should wait).

        Raises:
            Exception: what the test's iterator raised.
        """
        with self._cond:
            if not self._items:
                self._app_waiting = True
                return NOTHING
            self._app_waiting = False
            item = self._items.popleft()
            self._buffered -= _size(item)
            self._cond.notify()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        """The app is done with the body: the reader stops after the chunk it is reading."""
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _read(self) -> None:  # in the worker thread
        end: object = END
        try:
            for chunk in self._iterator:
                with self._cond:
                    while self._buffered >= READ_AHEAD and not self._stopped:
                        self._cond.wait()
                    if self._stopped:
                        return
                    wake = self._put(chunk)
                if wake:
                    self._backend.call_soon_threadsafe(self._wake)
        except BaseException as exc:  # the test's iterator failed: the app gets it
            end = exc
        with self._cond:
            wake = self._put(end)
        if wake:
            self._backend.call_soon_threadsafe(self._wake)

    def _put(self, item: object) -> bool:
        """Queue ``item`` (with the lock held); is the app waiting for it?"""
        self._items.append(item)
        self._buffered += _size(item)
        return self._app_waiting
