"""A small Django project served over ASGI, with a Channels consumer for WebSockets.

Laid out as Django and Channels lay out a project: ``settings``, ``urls`` and
``views``, ``consumers``, and ``asgi`` (the ``application`` a server would
load), which test_django.py drives with unwired's clients.
"""
