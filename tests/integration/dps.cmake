# SPDX-License-Identifier: MIT
# Provisioning (lib/dps) and `iotc provision` against the emulator.
iotc_integration_test(test_dps_provision SOURCES test_dps_provision.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(test_dps_repeat SOURCES test_dps_repeat.c TIMEOUT 240)

# The same repeated provisioning under valgrind: only without sanitizers (tests/run.sh runs the
# `valgrind` label in a separate non-sanitized build).
find_program(IOTC_VALGRIND valgrind)
if(IOTC_VALGRIND AND NOT IOTC_SANITIZE)
  add_test(NAME integration.test_dps_repeat_valgrind
    COMMAND ${IOTC_VALGRIND} --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible
            --track-origins=yes --quiet $<TARGET_FILE:test_dps_repeat>)
  set_tests_properties(integration.test_dps_repeat_valgrind PROPERTIES
    FIXTURES_REQUIRED emulator TIMEOUT 600 LABELS "integration;valgrind"
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_INFO_FILE}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()

if(TARGET iotc_cli)
  add_test(NAME integration.cli_provision
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/test_cli_provision.sh" "$<TARGET_FILE:iotc_cli>")
  set_tests_properties(integration.cli_provision PROPERTIES
    FIXTURES_REQUIRED emulator TIMEOUT 120 LABELS integration
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_INFO_FILE};${IOTC_LSAN_OPTIONS}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()
