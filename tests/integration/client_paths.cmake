# SPDX-License-Identifier: MIT
# The device client's connect paths, cache file and permanent failures against the emulator.
iotc_integration_test(test_client_connect_paths SOURCES test_client_connect_paths.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(test_client_cache SOURCES test_client_cache.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(test_client_proxy SOURCES test_client_proxy.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
