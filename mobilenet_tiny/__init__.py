"""mobilenet-tiny: images to an int8 MobileNet on a microcontroller."""

__version__ = "0.1.0"
