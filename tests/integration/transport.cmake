# SPDX-License-Identifier: MIT
# Transports: MQTT over WebSockets, the automatic fallback from 8883 to 443, proxies with
# credentials. These programs start emulators (and proxies) of their own in standard-ports mode,
# so they have no standard-mode copy (label slow).
iotc_integration_test(central_transport SOURCES central_transport.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240 LABELS slow)
iotc_integration_test(central_proxy_auth SOURCES central_proxy_auth.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240 LABELS slow)
