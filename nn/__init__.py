"""nn: layers, losses, optimisers and training on top of dualnum (see ../shared/SPEC.md, "Package nn")."""
