"""Parameter counts and the `lnn-control params` table."""

from __future__ import annotations

import argparse

import pytest

from lnn_control.cli import params as params_cli
from lnn_control.policies import POLICY_KINDS, build_policy, parameter_counts


@pytest.mark.parametrize("kind", tuple(POLICY_KINDS))
def test_dense_counts_add_up_to_every_parameter(kind: str) -> None:
    policy = build_policy(kind, image_shape=(48, 64, 3))
    counts = parameter_counts(policy)
    assert counts["total_dense"] == sum(p.numel() for p in policy.parameters())
    assert counts["head"] == sum(p.numel() for p in policy.head.parameters())
    assert counts["head"] + counts["rnn_dense"] == counts["total_dense"]
    assert counts["head"] + counts["rnn"] == counts["total"]
    assert counts["rnn"] <= counts["rnn_dense"]


def test_ncp_counts_only_existing_synapses() -> None:
    ncp = parameter_counts(build_policy("ncp"))
    # 3 x 19 neuron params, 4 per neuron synapse (60), 4 per sensory synapse (192),
    # input affine 2 x 32, output affine 2 x 1.
    assert ncp["rnn"] == 3 * 19 + 4 * 60 + 4 * 192 + 2 * 32 + 2
    assert ncp["rnn_dense"] == 3 * 19 + 4 * 19 * 19 + 4 * 32 * 19 + 2 * 32 + 2
    wired_cfc = parameter_counts(build_policy("ncp_cfc"))
    assert wired_cfc["rnn"] < wired_cfc["rnn_dense"]


def test_ncp_recurrent_part_is_much_smaller_than_lstm() -> None:
    ncp = parameter_counts(build_policy("ncp"))["rnn"]
    lstm = parameter_counts(build_policy("lstm"))["rnn"]
    assert lstm == 4 * 64 * (32 + 64) + 2 * 4 * 64 + 64 + 1  # nn.LSTM(32, 64) + readout
    assert ncp * 10 < lstm


def test_params_cli_prints_a_row_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    params_cli.add_arguments(parser)
    assert params_cli.run(parser.parse_args(["--image", "48x64"])) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "kind" not in line]
    assert [row.split("|")[1].strip() for row in rows] == list(POLICY_KINDS)


def test_params_cli_rejects_a_bad_image_size() -> None:
    parser = argparse.ArgumentParser()
    params_cli.add_arguments(parser)
    with pytest.raises(ValueError, match="HxW"):
        params_cli.run(parser.parse_args(["--image", "64by160"]))
