"""Publishers: the only code that puts words in public, one small module per platform.

Each publisher is handed a ``Delivery`` the outbox (``responders.outbox``) built
from an approved draft, posts it, and says where it landed (``Posted``). They
never touch the store: the outbox records intent before and outcome after, so
a publisher is a plain client that any saved response can be replayed against.
"""
