"""End-to-end jobs built from training, rollouts and stress tests: the demo, experiments
(policy kinds x training seeds) and multi-seed training."""
