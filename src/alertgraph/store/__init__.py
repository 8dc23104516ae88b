"""Storage: tables derived from the EDM, the value codec, the audited write transaction, import.

Below odata (reads) and rules (writes); above schema.
"""
