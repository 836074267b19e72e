"""Replay servers: real recorded HTTP traffic answered from 127.0.0.1.

The recordings live in ``../shared/data/catalog`` (never copied into the repository). Clients under
test (sentinelsat, pystac-client, hpgeo's OData client) run unmodified against these servers.
"""

from tests.replay.server import Interaction, ReplayServer, load_cassette, odata_first_page

__all__ = ["Interaction", "ReplayServer", "load_cassette", "odata_first_page"]
