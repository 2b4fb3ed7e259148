"""Stress tests: suites of perturbations x severities, resumable sweeps (local or Ray),
statistics (CIs, mCE), reports and comparisons between policy kinds."""
