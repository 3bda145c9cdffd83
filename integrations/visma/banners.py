def banners(organization) -> list[dict]:
    """Banners for every page of this organisation (filled in by the connect issue)."""
    return []
