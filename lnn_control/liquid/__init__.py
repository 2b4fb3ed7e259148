"""The liquid core: LTC and CfC neurons on NCP wirings. No gym, no pybullet.

from lnn_control.liquid import LTC, CfC, NCPWiring, from_ncps
wiring = NCPWiring.paper(seed=0)              # 19 neurons: 12 inter, 6 command, 1 motor
y, h = LTC(32, wiring)(x, h0=None, dt=None)   # x (B, T, 32); dt float, (B,) or (B, T)
y_t, h = LTC(32, wiring).cell(x_t, h, dt)     # one step, e.g. on a robot
"""

from lnn_control.liquid.cfc import CfC, CfCCell
from lnn_control.liquid.interop import from_ncps
from lnn_control.liquid.ltc import LTC, LTCCell
from lnn_control.liquid.serialization import build_liquid, load_liquid, save_liquid
from lnn_control.liquid.step_export import export_step_onnx
from lnn_control.liquid.timing import reset_state
from lnn_control.liquid.wiring import NCPWiring, Wiring

__all__ = [
    "LTC",
    "CfC",
    "CfCCell",
    "LTCCell",
    "NCPWiring",
    "Wiring",
    "build_liquid",
    "export_step_onnx",
    "from_ncps",
    "load_liquid",
    "reset_state",
    "save_liquid",
]
