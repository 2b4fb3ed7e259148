"""The lane-keeping world, `lnn_control/LaneKeeping-v0`: a 1/10-scale racecar on procedural roads.

Its `World` record is `lnn_control.envs.lane.world.WORLD` (see `lnn_control.envs.world`).
"""
