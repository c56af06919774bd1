"""Site kinds behind one interface: base.py (SiteKind, Feature), one package
per kind, registry.py (name -> kind). docs/architecture.md, "Site kinds"."""
