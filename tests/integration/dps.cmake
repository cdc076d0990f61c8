# SPDX-License-Identifier: MIT
# Provisioning (lib/dps) and `iotc provision` against the emulator.
iotc_integration_test(dps_provision SOURCES dps_provision.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(dps_repeat SOURCES dps_repeat.c TIMEOUT 240)

# The same repeated provisioning under valgrind: only without sanitizers (tests/run.sh runs the
# `valgrind` label in a separate non-sanitized build).
find_program(IOTC_VALGRIND valgrind)
if(IOTC_VALGRIND AND NOT IOTC_SANITIZE)
  add_test(NAME integration.dps_repeat_valgrind
    COMMAND ${IOTC_VALGRIND} --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible
            --track-origins=yes --quiet $<TARGET_FILE:dps_repeat>)
  set_tests_properties(integration.dps_repeat_valgrind PROPERTIES
    FIXTURES_REQUIRED emulator TIMEOUT 600 LABELS "integration;valgrind"
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_INFO_FILE}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()

if(TARGET iotc_cli)
  foreach(mode IN ITEMS "" standard)
    set(t integration.cli_provision)
    set(info "${IOTC_EMULATOR_INFO_FILE}")
    set(fixture emulator)
    if(mode)
      set(t integration.standard.cli_provision)
      set(info "${IOTC_EMULATOR_STANDARD_INFO_FILE}")
      set(fixture emulator_standard)
    endif()
    add_test(NAME ${t}
      COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/cli_provision.sh" "$<TARGET_FILE:iotc_cli>")
    set_tests_properties(${t} PROPERTIES
      FIXTURES_REQUIRED ${fixture} TIMEOUT 120 LABELS "integration;${mode}"
      ENVIRONMENT "IOTC_EMULATOR_INFO=${info};${IOTC_LSAN_OPTIONS}"
      ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
  endforeach()
endif()
