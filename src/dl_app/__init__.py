"""Digital Life (数字生命): a desktop companion that remembers."""

__version__ = "0.1.0"
