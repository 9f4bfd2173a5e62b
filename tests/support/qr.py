"""Reading printed tickets back the way a phone would: rasterise, then scan the QR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium

Image = npt.NDArray[np.uint8]


def pdf_to_images(path: Path, dpi: int = 200) -> list[Image]:
    """Every page of the PDF at ``path`` as a BGR image at ``dpi``."""
    pdf = pdfium.PdfDocument(path)
    try:
        images: list[Image] = []
        for index in range(len(pdf)):
            page = pdf[index]
            bitmap = page.render(scale=dpi / 72)
            pixels = bitmap.to_numpy()
            if bitmap.mode != "BGR":
                pixels = cv2.cvtColor(pixels, _TO_BGR[bitmap.mode])
            # The array views the bitmap's buffer, which dies with the document.
            images.append(np.ascontiguousarray(pixels).copy())
            bitmap.close()
            page.close()
        return images
    finally:
        pdf.close()


_TO_BGR = {
    "RGB": cv2.COLOR_RGB2BGR,
    "BGRA": cv2.COLOR_BGRA2BGR,
    "BGRX": cv2.COLOR_BGRA2BGR,
    "RGBA": cv2.COLOR_RGBA2BGR,
    "RGBX": cv2.COLOR_RGBA2BGR,
    "L": cv2.COLOR_GRAY2BGR,
}


def decode_qr(image: Image) -> str | None:
    """The text of the QR code in ``image``, or None if none can be read.

    OpenCV's classic detector is tried on the image as given, then with a wide
    white margin (a code near the page edge loses its quiet zone), then enlarged
    (small modules at low resolution), then binarised (grey anti-aliased edges).
    Last comes the ArUco-based detector: the classic one misses roughly one valid
    code in twenty at the sizes a signed ticket URL needs (versions 11 to 13),
    depending only on the bits, which would make tests with random keys flaky.
    """
    candidates = _variants(image)
    detectors = (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco())
    for detector in detectors:
        for candidate in candidates:
            text, _points, _straight = detector.detectAndDecode(candidate)
            if text:
                return str(text)
    return None


def _variants(image: Image) -> list[npt.NDArray[Any]]:
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    margin = max(grey.shape) // 10
    bordered = cv2.copyMakeBorder(
        grey, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255
    )
    enlarged = cv2.resize(bordered, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    _, binary = cv2.threshold(bordered, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return [image, bordered, enlarged, binary]
