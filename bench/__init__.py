"""`make bench`: the deployed stack under load, measured as ratios against same-run baselines."""
