"""Where and how code runs: seeded generators and deterministic mode (``seeding``), thread
counts (``threads``), the run manifest (``manifest``), crash-safe files (``files``) and process
pools that end with their parent (``pool``)."""
