"""Contracts: the JSON Schemas every service and UI agrees on, shipped as package data.

`validator` is the one place documents are checked; `envelope` builds event envelopes;
`registry` loads the UI registry; `compat` compares two versions of a schema.
"""
