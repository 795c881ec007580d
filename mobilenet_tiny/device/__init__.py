"""The device side from the host: firmware build, board catalog, QEMU, the serial protocol and its tests."""
