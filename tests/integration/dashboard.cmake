# SPDX-License-Identifier: MIT
# The emulator's dashboard in headless Chromium, driving the real environmental sensor; the test
# starts its own emulator. Reported as skipped where Chromium (Debian's chromium) is not installed.
# Screenshots go to BUILD_DIR/screenshots.
if(IOTC_HAVE_EMULATOR AND TARGET environmental_sensor)
  add_test(NAME integration.dashboard_browser
    COMMAND "${IOTC_NODE}" --test "${IOTC_EMULATOR_DIR}/test/dashboard-browser.test.cjs"
    WORKING_DIRECTORY "${IOTC_EMULATOR_DIR}")
  set_tests_properties(integration.dashboard_browser PROPERTIES TIMEOUT 300 LABELS "integration;dashboard"
    SKIP_REGULAR_EXPRESSION "# SKIP"
    ENVIRONMENT "IOTC_SENSOR=$<TARGET_FILE:environmental_sensor>;IOTC_SCREENSHOT_DIR=${CMAKE_BINARY_DIR}/screenshots;${IOTC_LSAN_OPTIONS}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()
