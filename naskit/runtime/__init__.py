"""Where and how code runs: seeded generators and deterministic mode (``seeding``), thread
counts (``threads``), the run manifest (``manifest``) and crash-safe files (``files``)."""
