"""One module per push service: each turns a message into its service's requests for a
list of devices and judges the answers, device by device (``DeviceResult``)."""
