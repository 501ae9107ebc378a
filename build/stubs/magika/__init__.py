"""Stand-in for magika in the bundle (build/dl-app.spec puts this folder first on the
search path and leaves out onnxruntime).

markitdown imports magika when it is imported, but only ``MarkItDown()`` builds a
``Magika`` (to sniff file types with an ONNX model run by onnxruntime: 11.4 MiB of the
.deb). The app never builds ``MarkItDown``: ``dl_app.adapters.documents`` picks each
format's converter by extension (tests/library/test_attachments.py checks that with
``Magika`` unbuildable). Anything that did build one fails here, loudly.
"""


class Magika:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("magika is not bundled with Digital Life (build/stubs/magika)")
