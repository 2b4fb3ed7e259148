"""Small shipped policy checkpoints (package data), each with a model card.

Each checkpoint is a sub-folder `lnn_control/pretrained/<name>/` holding `model.safetensors`,
`config.json` (see `lnn_control.policies.checkpoint`) and a `README.md` model card.
`lnn_control.load_policy("pretrained:<name>")` resolves to that folder; only folders with a
`config.json` count as available, and an unknown name raises a one-line error listing them.
"""
