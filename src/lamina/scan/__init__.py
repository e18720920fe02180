"""Package inventory, the offline advisory database, matching and SBOMs (issue 9)."""
