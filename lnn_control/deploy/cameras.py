"""Camera sources for the runtime: one small interface, frames with monotonic timestamps.

    with VideoFileCamera("drive.mp4", image_shape=(64, 160, 3)) as camera:
        frame = camera.read()        # Frame(image RGB uint8 (H, W, 3), timestamp_s, index) or None

`read` returns the next frame, or None when none is available (`exhausted` tells whether the
stream has ended for good). Timestamps are `time.monotonic()` seconds taken when the frame was
grabbed; the runtime feeds the interval between two frames to the model as dt.

Fit policy (`fit_to_shape`): BGR -> RGB, then a centred crop to the model's aspect ratio
(height/width), then `cv2.resize` with INTER_AREA to (H, W). Nothing is stretched; the crop
removes the same amount from both sides of the longer axis. Mount the camera so that the
cropped view matches what the policy was trained on.

Blocking: OpenCV's `read` on a device or pipeline blocks until a frame arrives. A camera that
hangs inside `read` therefore stops the loop; the microcontroller's own command timeout (see
docs/deploy.md) is the layer that stops the car then. A camera that delivers *old* frames is
caught by the runtime's frame-age watchdog.
"""

from __future__ import annotations

import queue
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

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


class Camera(ABC):
    """open / read / close, usable as a context manager."""

    def __init__(self, image_shape: ImageShape) -> None:
        self.image_shape = image_shape
        self.exhausted = False
        self._index = 0

    @abstractmethod
    def open(self) -> None:
        """Acquire the device or file; raises RuntimeError if it cannot be opened."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None (see `exhausted`)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or file (idempotent)."""

    def _frame(self, image_bgr: np.ndarray) -> Frame:
        frame = Frame(fit_to_shape(image_bgr, self.image_shape), time.monotonic(), self._index)
        self._index += 1
        return frame

    def __enter__(self) -> Camera:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _CaptureCamera(Camera):
    """Shared `cv2.VideoCapture` plumbing."""

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
    """

    def __init__(self, image_shape: ImageShape, read_timeout_s: float = 0.05) -> None:
        super().__init__(image_shape)
        self.read_timeout_s = read_timeout_s
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
