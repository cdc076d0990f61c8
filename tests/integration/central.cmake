# SPDX-License-Identifier: MIT
# The IoT Central client (include/iotc/client.h) against the emulator: one program per theme.
# Included by CMakeLists.txt in this directory (see there for iotc_integration_test and the
# emulator fixture).
file(GLOB IOTC_CENTRAL_SOURCES "${PROJECT_SOURCE_DIR}/lib/central/*.c")
if(NOT IOTC_CENTRAL_SOURCES)
  message(STATUS "iotc: client integration tests skipped (lib/central has no sources yet)")
  return()
endif()

# Drops for lack of memory: alloc_fail_in() names functions with the sanitizer's symbolizer.
if(IOTC_SANITIZE)
  iotc_integration_test(central_out_of_memory SOURCES central_out_of_memory.c
    LIBRARIES PkgConfig::CMOCKA iotc_alloc_fail TIMEOUT 300)
  target_link_options(central_out_of_memory PRIVATE ${IOTC_ALLOC_FAIL_LINK_OPTIONS})
endif()
iotc_integration_test(central_round_trips SOURCES central_round_trips.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_tutorial SOURCES central_tutorial.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_model SOURCES central_model.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
foreach(t IN ITEMS central_tutorial central_model)
  target_compile_definitions(${t} PRIVATE
    IOTC_EXAMPLE_MODEL="${PROJECT_SOURCE_DIR}/examples/environmental_sensor/EnvironmentalSensor.json")
endforeach()
# Every way to reach the hub, the cache file, permanent failures, proxies, failure detail.
iotc_integration_test(central_connect_paths SOURCES central_connect_paths.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_cache SOURCES central_cache.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_give_up SOURCES central_give_up.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_proxy SOURCES central_proxy.c LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_diagnostics SOURCES central_diagnostics.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_components SOURCES central_components.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_reconcile SOURCES central_reconcile.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_sas_renewal SOURCES central_sas_renewal.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240 LABELS slow)
iotc_integration_test(central_disconnects SOURCES central_disconnects.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_throttling SOURCES central_throttling.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
iotc_integration_test(central_disconnect_flush SOURCES central_disconnect_flush.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_failover SOURCES central_failover.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_queued SOURCES central_queued.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_isolation SOURCES central_isolation.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_executor SOURCES central_executor.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
# Clients on a shared executor under valgrind: rounds on the executor's threads, destroy.
if(IOTC_HAVE_EMULATOR)
  find_program(IOTC_VALGRIND valgrind)
  if(IOTC_SANITIZE)
    set(EXECUTOR_VALGRIND_ARGS nested "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_BINARY_DIR}/valgrind-build-executor" central_executor)
  else()
    set(EXECUTOR_VALGRIND_ARGS run "$<TARGET_FILE:central_executor>")
  endif()
  add_test(NAME integration.central_executor_valgrind
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/valgrind_shutdown.sh" ${EXECUTOR_VALGRIND_ARGS})
  set_tests_properties(integration.central_executor_valgrind PROPERTIES
    FIXTURES_REQUIRED emulator TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "integration;slow"
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_INFO_FILE}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()
iotc_integration_test(central_command_response SOURCES central_command_response.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_status SOURCES central_status.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_cancel SOURCES central_cancel.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_schedule SOURCES central_schedule.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_bad_input SOURCES central_bad_input.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
iotc_integration_test(central_log_secrecy SOURCES central_log_secrecy.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180 LABELS slow)
iotc_integration_test(central_stress SOURCES central_stress.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 240)
# File upload: the hub's HTTPS shares its MQTT port, which standard mode (hubs on 8883, HTTPS
# expected on 443) does not serve, so no standard-mode copy.
iotc_integration_test(central_upload SOURCES central_upload.c ${CENTRAL_SUPPORT}
  LIBRARIES PkgConfig::CMOCKA CURL::libcurl TIMEOUT 600 LABELS upload NO_STANDARD)
# Its dlopen() refuses libcurl, as on a machine without it.
iotc_integration_test(central_upload_without_libcurl SOURCES central_upload_without_libcurl.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 120 LABELS upload NO_STANDARD)
target_link_options(central_upload_without_libcurl PRIVATE -Wl,--wrap=dlopen)
if(TARGET iotc_cli)
  add_test(NAME integration.cli_upload
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/test_cli_upload.sh" "$<TARGET_FILE:iotc_cli>")
  set_tests_properties(integration.cli_upload PROPERTIES
    FIXTURES_REQUIRED emulator TIMEOUT 120 LABELS "integration;upload"
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_INFO_FILE};${IOTC_LSAN_OPTIONS}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()
# The shutdown program runs as is (ASan/LSan builds check it) and under valgrind.
iotc_integration_test(central_shutdown SOURCES central_shutdown.c TIMEOUT 120)
if(IOTC_HAVE_EMULATOR)
  find_program(IOTC_VALGRIND valgrind)
  # Under ASan valgrind cannot run the program: the script then builds a plain copy of it in a
  # nested build tree first.
  if(IOTC_SANITIZE)
    set(CENTRAL_VALGRIND_ARGS nested "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_BINARY_DIR}/valgrind-build")
  else()
    set(CENTRAL_VALGRIND_ARGS run "$<TARGET_FILE:central_shutdown>")
  endif()
  add_test(NAME integration.central_shutdown_valgrind
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/valgrind_shutdown.sh" ${CENTRAL_VALGRIND_ARGS})
  set_tests_properties(integration.central_shutdown_valgrind PROPERTIES
    FIXTURES_REQUIRED emulator TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "integration;slow"
    ENVIRONMENT "IOTC_EMULATOR_INFO=${IOTC_EMULATOR_INFO_FILE}"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()

# The real environmental sensor, and the demo script that drives it (it starts its own emulator).
if(IOTC_HAVE_EMULATOR AND TARGET environmental_sensor)
  iotc_integration_test(central_sensor SOURCES central_sensor.c
    LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
  iotc_integration_test_property(central_sensor ENVIRONMENT "IOTC_SENSOR_BIN=$<TARGET_FILE:environmental_sensor>")
  add_test(NAME integration.demo
    COMMAND bash "${PROJECT_SOURCE_DIR}/examples/run-demo.sh" --no-install
            --sensor "$<TARGET_FILE:environmental_sensor>")
  set_tests_properties(integration.demo PROPERTIES TIMEOUT 180 LABELS "integration;demo"
    ENVIRONMENT "${IOTC_LSAN_OPTIONS}" ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
  add_test(NAME integration.demo_interactive
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/demo_interactive.sh" "$<TARGET_FILE:environmental_sensor>")
  set_tests_properties(integration.demo_interactive PROPERTIES TIMEOUT 180 LABELS "integration;demo"
    ENVIRONMENT "${IOTC_LSAN_OPTIONS}" ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
endif()

# Paho 1.3.12 leaks what it abandons at a connection drop (see lsan.supp).
get_property(CENTRAL_TESTS DIRECTORY PROPERTY TESTS)
foreach(t IN LISTS CENTRAL_TESTS)
  if(t MATCHES "^integration\\.(standard\\.)?central_")
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
      "${IOTC_LSAN_OPTIONS}")
  endif()
endforeach()
foreach(t IN ITEMS central_disconnects central_stress central_failover)
  iotc_integration_test_property(${t} ENVIRONMENT "${IOTC_LSAN_DROPS_OPTIONS}")
endforeach()
# Store and forward (persist_dir): the kill test, the offline backlog and reported properties
# across restarts, on an emulator of its own that keeps every message (so it has no standard-
# ports copy: it would run the same thing twice). IOTC_PERSIST_KILLS and IOTC_PERSIST_BACKLOG
# make the bigger runs of the `slow` variant.
if(IOTC_HAVE_EMULATOR)
  add_executable(central_persist central_persist.c)
  target_link_libraries(central_persist PRIVATE iotc_integration_support PkgConfig::CMOCKA)
  target_include_directories(central_persist PRIVATE "${PROJECT_SOURCE_DIR}/lib")
  target_compile_options(central_persist PRIVATE ${IOTC_WARNINGS})
  target_compile_definitions(central_persist PRIVATE _POSIX_C_SOURCE=200809L)
  if(TARGET iotc_cli)
    target_compile_definitions(central_persist PRIVATE IOTC_CLI_PATH="$<TARGET_FILE:iotc_cli>")
    add_dependencies(central_persist iotc_cli)
  endif()
  # The long variant (300 kills, a 200,000-message backlog) is opt-in: -DIOTC_LONG_TESTS=ON.
  set(persist_variants "")
  if(IOTC_LONG_TESTS)
    list(APPEND persist_variants "_slow")
  endif()
  foreach(variant IN ITEMS "" ${persist_variants})
    add_test(NAME integration.central_persist${variant} COMMAND central_persist)
    set_tests_properties(integration.central_persist${variant} PROPERTIES
      TIMEOUT 240 LABELS "integration;persist"
      ENVIRONMENT "${IOTC_LSAN_DROPS_OPTIONS}"
      ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
  endforeach()
  # Under valgrind: the client's own recovery, sending, full disk and destroy (the killed
  # senders are children, not under valgrind), with small runs.
  find_program(IOTC_VALGRIND valgrind)
  if(IOTC_SANITIZE)
    set(PERSIST_VALGRIND_ARGS nested "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_BINARY_DIR}/valgrind-build-persist" central_persist)
  else()
    set(PERSIST_VALGRIND_ARGS run "$<TARGET_FILE:central_persist>")
  endif()
  add_test(NAME integration.central_persist_valgrind
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/valgrind_shutdown.sh" ${PERSIST_VALGRIND_ARGS})
  set_tests_properties(integration.central_persist_valgrind PROPERTIES
    TIMEOUT 900 SKIP_RETURN_CODE 77 LABELS "integration;persist;slow"
    ENVIRONMENT "IOTC_PERSIST_KILLS=5;IOTC_PERSIST_BACKLOG=1000"
    ENVIRONMENT_MODIFICATION "${IOTC_TEST_ENV_UNSET}")
  if(IOTC_LONG_TESTS)
    set_tests_properties(integration.central_persist_slow PROPERTIES TIMEOUT 1800
      LABELS "integration;persist;slow"
      ENVIRONMENT "${IOTC_LSAN_DROPS_OPTIONS};IOTC_PERSIST_KILLS=300;IOTC_PERSIST_BACKLOG=200000")
  endif()
endif()
