# SPDX-License-Identifier: MIT
# The README's quickstart program, driven through the operator API.
if(TARGET quickstart)
  add_test(NAME integration.quickstart
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/quickstart.sh" "$<TARGET_FILE:quickstart>")
  set_tests_properties(integration.quickstart PROPERTIES
    FIXTURES_REQUIRED emulator TIMEOUT 120
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_INFO_FILE};${IOTC_LSAN_OPTIONS}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
  # The same against standard ports: the DPS host alone, and whatever bare host name DPS assigns.
  add_test(NAME integration.standard.quickstart
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/quickstart.sh" "$<TARGET_FILE:quickstart>")
  set_tests_properties(integration.standard.quickstart PROPERTIES
    FIXTURES_REQUIRED emulator_standard TIMEOUT 120 LABELS "integration;standard"
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_STANDARD_INFO_FILE};${IOTC_LSAN_OPTIONS}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()
