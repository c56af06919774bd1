"""`out m = file("m.pt", publish = "s3://bucket/models/${lr}")`: once the
output is written, the site that holds it copies it to object storage
(compiler/backends/publishing.py). The URI may hold the stage's sweep
variables and params, like the path."""

from __future__ import annotations

from ..diagnostics import help_
from . import ast as A
from .context import Context
from .evaluate import BAD, Scope
from .paths import uri_scheme

STORES = ("s3", "gs")  # what the sites' object-store clients (aws, gcloud) write


def publish_uri(ctx: Context, kw: A.KwArg, scope: Scope) -> str | None:
    """The checked URI of `publish = ...`, or None after reporting why not."""
    text = ctx.ev.string(kw.value, scope)
    if text is BAD:
        return None
    scheme = uri_scheme(text)
    rest = text.split("://", 1)[1] if scheme else ""
    if scheme not in STORES or not rest.split("/", 1)[0] or any(not c.isprintable() for c in text):
        ctx.diags.error("E0585", f"`{text}` is not an object-storage URI to publish to", kw.value.pos.span(),
                        help_("write `publish = \"s3://BUCKET/PATH\"` (or gs://): the site that holds the output "
                              "copies it there once it is written"))
        return None
    return text
