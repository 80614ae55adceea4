"""One blueprint per area; each module defines `bp`."""
