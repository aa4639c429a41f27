"""The complete exercises: the one source of truth from which `python -m tutorials.exercises build` makes the
student files (each `# BEGIN SOLUTION` ... `# END SOLUTION` block becomes a TODO stub)."""
