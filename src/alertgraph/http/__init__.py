"""The HTTP face: the ASGI app, routing (path -> target), call/reply types, read and write handlers.

Top of the request pipeline: identity authenticates, odata reads, rules and store write.
"""
