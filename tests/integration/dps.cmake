# Provisioning (lib/dps) against the emulator.
iotc_integration_test(test_dps_provision SOURCES test_dps_provision.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
