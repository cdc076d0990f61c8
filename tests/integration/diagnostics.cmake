# SPDX-License-Identifier: MIT
# Actionable failure detail (TLS reasons, clock hints) against the emulator.
iotc_integration_test(test_client_diagnostics SOURCES test_client_diagnostics.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
