"""Camera sources for the runtime: one small interface, frames with timestamps.

    with VideoFileCamera("drive.mp4", image_shape=(64, 160, 3)) as camera:
        frame = camera.read()        # Frame(image RGB uint8 (H, W, 3), timestamp_s, index) or None

`read` returns the next frame, or None when none is available (`exhausted` tells whether the
stream has ended for good). The cameras here stamp frames with `time.monotonic()` when grabbed
and say so (`clock_offset_s = 0.0`). A camera whose timestamps come from another clock (wall
time, ROS header stamps, a device clock) leaves `clock_offset_s = None` (never trusted for the
watchdog) or declares the offset that converts them to `time.monotonic()` seconds.

The runtime never trusts a timestamp alone: it stamps every frame again at receipt on its own
monotonic clock, and judges a frame's age from the receipt (or from the converted timestamp when
that is earlier). Camera timestamps feed the model's dt only while their intervals are sane.

Blocking: OpenCV's `read` on a device or pipeline blocks until a frame arrives. The runtime calls
`read` in a reader thread (`reader.py` in this package), so a camera that hangs inside `read`
cannot stall the control loop: the frame-age watchdog sends the fail-safe on time. Live sources
(`live = True`) are read continuously, keeping the newest frame; files are read one frame per
control period.

Fit policy (`fit_to_shape`): BGR -> RGB, then a centred crop to the model's aspect ratio
(height/width), then `cv2.resize` with INTER_AREA to (H, W). Nothing is stretched; the crop
removes the same amount from both sides of the longer axis. Mount the camera so that the
cropped view matches what the policy was trained on.
"""

from __future__ import annotations

import queue
import time
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lnn_control.deploy.runtime.resource import Resource

ImageShape = tuple[int, int, int]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


@dataclass(frozen=True)
class Frame:
    """One camera frame: RGB uint8 (H, W, 3) at the model's shape, monotonic time (s), index."""

    image: np.ndarray
    timestamp_s: float
    index: int


def fit_to_shape(image_bgr: np.ndarray, image_shape: ImageShape) -> np.ndarray:
    """BGR (h, w, 3) uint8 -> RGB (H, W, 3) uint8: centred crop to H/W aspect, INTER_AREA resize."""
    height, width = image_shape[0], image_shape[1]
    src_h, src_w = image_bgr.shape[:2]
    target = height / width
    if src_h / src_w > target:  # too tall: crop rows
        keep = max(1, round(src_w * target))
        top = (src_h - keep) // 2
        image_bgr = image_bgr[top : top + keep]
    else:  # too wide: crop columns
        keep = max(1, round(src_h / target))
        left = (src_w - keep) // 2
        image_bgr = image_bgr[:, left : left + keep]
    resized = cv2.resize(image_bgr, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cv2.cvtColor(resized, cv2.COLOR_BGR2RGB))


class Camera(Resource):
    """open / read / close, usable as a context manager.

    Attributes:
        image_shape: (H, W, 3) of the frames (the model's).
        exhausted: the stream has ended for good.
        live: frames arrive on their own (a device): the runtime reads continuously and keeps
            the newest; False: one `read` per control period (files, queues).
        clock_offset_s: seconds to add to `Frame.timestamp_s` to get `time.monotonic()`; None
            when the timestamps' clock is unknown (then only the receipt time counts).
    """

    live: bool = False
    clock_offset_s: float | None = None

    def __init__(self, image_shape: ImageShape) -> None:
        self.image_shape = image_shape
        self.exhausted = False
        self._index = 0

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None (see `exhausted`)."""

    def _frame(self, image_bgr: np.ndarray) -> Frame:
        frame = Frame(fit_to_shape(image_bgr, self.image_shape), time.monotonic(), self._index)
        self._index += 1
        return frame


class _CaptureCamera(Camera):
    """Shared `cv2.VideoCapture` plumbing (frames stamped with `time.monotonic()`)."""

    clock_offset_s = 0.0

    def __init__(self, image_shape: ImageShape) -> None:
        super().__init__(image_shape)
        self._cap: cv2.VideoCapture | None = None

    @abstractmethod
    def _capture(self) -> cv2.VideoCapture:
        """A new capture object."""

    def open(self) -> None:
        """Open the capture."""
        self._cap = self._capture()
        if not self._cap.isOpened():
            self._cap.release()
            self._cap = None
            raise RuntimeError(f"{type(self).__name__}: cannot open {self.describe()}")

    def describe(self) -> str:
        """What is being opened, for messages."""
        return type(self).__name__

    def read(self) -> Frame | None:
        """Grab and decode one frame (blocks on live sources); None and `exhausted` at the end."""
        if self._cap is None:
            raise RuntimeError(f"{type(self).__name__}: read() before open()")
        ok, image = self._cap.read()
        if not ok or image is None:
            self.exhausted = True
            return None
        return self._frame(image)

    def close(self) -> None:
        """Release the capture."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class DeviceCamera(_CaptureCamera):
    """A V4L2/USB camera by index (0 = /dev/video0)."""

    live = True

    def __init__(self, index: int, image_shape: ImageShape) -> None:
        super().__init__(image_shape)
        self.index = int(index)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.index)

    def describe(self) -> str:
        """Device index."""
        return f"camera device {self.index}"


class VideoFileCamera(_CaptureCamera):
    """Frames of a video file, as fast as `read` is called (the runtime's rate paces it)."""

    def __init__(self, path: str | Path, image_shape: ImageShape) -> None:
        super().__init__(image_shape)
        self.path = Path(path)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(str(self.path))

    def describe(self) -> str:
        """File path."""
        return f"video file {self.path}"


class GStreamerCamera(_CaptureCamera):
    """A GStreamer pipeline ending in `appsink` (needs OpenCV built with GStreamer; untested).

    Example (Jetson CSI): "nvarguscamerasrc ! video/x-raw(memory:NVMM),width=640,height=360 !
    nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink
    drop=true max-buffers=1" (drop=true keeps only the newest frame).
    """

    live = True

    def __init__(self, pipeline: str, image_shape: ImageShape) -> None:
        super().__init__(image_shape)
        self.pipeline = pipeline

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.pipeline, cv2.CAP_GSTREAMER)

    def describe(self) -> str:
        """The pipeline string."""
        return f"GStreamer pipeline {self.pipeline!r}"


class ImageFolderCamera(Camera):
    """Image files of a folder in name order (png/jpg/bmp), one per `read`."""

    clock_offset_s = 0.0

    def __init__(self, folder: str | Path, image_shape: ImageShape) -> None:
        super().__init__(image_shape)
        self.folder = Path(folder)
        self._files: list[Path] = []

    def open(self) -> None:
        """List the images; RuntimeError if there are none."""
        self._files = (
            sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if self.folder.is_dir()
            else []
        )
        if not self._files:
            raise RuntimeError(f"ImageFolderCamera: no images in {self.folder}")

    def read(self) -> Frame | None:
        """The next image; None and `exhausted` after the last."""
        if self._index >= len(self._files):
            self.exhausted = True
            return None
        image = cv2.imread(str(self._files[self._index]), cv2.IMREAD_COLOR)
        if image is None:
            raise RuntimeError(f"ImageFolderCamera: cannot read {self._files[self._index]}")
        return self._frame(image)

    def close(self) -> None:
        """Nothing to release."""


class QueueCamera(Camera):
    """Frames pushed by another thread (`put`), e.g. a simulator bridge; `read` waits briefly.

    Args:
        image_shape: (H, W, 3) of the model.
        read_timeout_s: how long `read` waits for a new frame before returning None.
        clock_offset_s: seconds to add to the pushed timestamps to get `time.monotonic()`
            (0.0: `put` stamps with `time.monotonic()` unless given a timestamp; None: unknown).
    """

    def __init__(
        self,
        image_shape: ImageShape,
        read_timeout_s: float = 0.05,
        clock_offset_s: float | None = 0.0,
    ) -> None:
        super().__init__(image_shape)
        self.read_timeout_s = read_timeout_s
        self.clock_offset_s = clock_offset_s
        self._queue: queue.Queue[Frame | None] = queue.Queue()
        self._ended = False

    def put(self, image_rgb: np.ndarray, timestamp_s: float | None = None) -> None:
        """Push an RGB uint8 image at the model's shape (resized if not)."""
        if image_rgb.shape != self.image_shape:
            image_rgb = fit_to_shape(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), self.image_shape)
        stamp = time.monotonic() if timestamp_s is None else timestamp_s
        self._queue.put(Frame(np.ascontiguousarray(image_rgb), stamp, self._index))
        self._index += 1

    def end(self) -> None:
        """Mark the end of the stream."""
        self._queue.put(None)

    def open(self) -> None:
        """Nothing to acquire."""

    def read(self) -> Frame | None:
        """The newest queued frame (older ones are dropped), or None after `read_timeout_s`."""
        if self._ended:
            self.exhausted = True
            return None
        try:
            frame = self._queue.get(timeout=self.read_timeout_s)
        except queue.Empty:
            return None
        while frame is not None:
            try:
                newer = self._queue.get_nowait()
            except queue.Empty:
                break
            if newer is None:  # the stream ends after this frame
                self._ended = True
                break
            frame = newer
        if frame is None:
            self.exhausted = True
        return frame

    def close(self) -> None:
        """Nothing to release."""
