"""The ASGI entry point, as Channels' docs write it: Django for HTTP, consumers for WebSockets."""

import os

from django.core.asgi import get_asgi_application

# One Django project per process: this one, for the tests that import it.
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.frameworks.django_app.settings"
# Set up Django before importing anything that uses models or settings.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from tests.frameworks.django_app.consumers import EchoConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([path("ws", EchoConsumer.as_asgi())]),
    }
)
