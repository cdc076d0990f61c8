# SPDX-License-Identifier: MIT
# The IoT Central device client (lib/central) end to end against the emulator.
iotc_integration_test(test_client_core SOURCES test_client_core.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
# Paho 1.3.12 leaks what it abandons at a connection drop (see lsan.supp).
set_property(TEST integration.test_client_core APPEND PROPERTY ENVIRONMENT
  "${IOTC_LSAN_OPTIONS}")
