"""What the kontooppsett tells whoever listens, without knowing them (an integration
releases the settlements that waited for a mapping)."""

from django.dispatch import Signal

# After a save that changed something or not: kwargs `organization`.
mapping_saved = Signal()
