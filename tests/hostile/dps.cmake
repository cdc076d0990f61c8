# The hostile DPS (dps_server.mjs, HTTPS and MQTT) and the provisioning tests against it.
set(IOTC_HOSTILE_DPS_STATE "${CMAKE_CURRENT_BINARY_DIR}/dps")
file(MAKE_DIRECTORY "${IOTC_HOSTILE_DPS_STATE}")
add_library(iotc_hostile_dps STATIC dps_harness.c)
target_include_directories(iotc_hostile_dps PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(iotc_hostile_dps PUBLIC iotc::iotc PkgConfig::CMOCKA)
target_compile_options(iotc_hostile_dps PRIVATE ${IOTC_WARNINGS})
target_compile_definitions(iotc_hostile_dps PRIVATE _POSIX_C_SOURCE=200809L
  IOTC_HOSTILE_NODE="${IOTC_NODE}" IOTC_HOSTILE_DPS_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/dps_server.mjs"
  IOTC_HOSTILE_STATE="${IOTC_HOSTILE_DPS_STATE}")

# Each executable generates the server certificates once in its own directory.
function(iotc_hostile_dps_test name)
  add_executable(${name} ${name}.c)
  target_link_libraries(${name} PRIVATE iotc_hostile_dps)
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/lib")
  target_compile_options(${name} PRIVATE ${IOTC_WARNINGS})
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L)
  add_test(NAME hostile.${name} COMMAND ${name})
  set_tests_properties(hostile.${name} PROPERTIES TIMEOUT 300 LABELS hostile
    ENVIRONMENT "IOTC_HOSTILE_CERTS=${IOTC_HOSTILE_DPS_STATE}/${name}-certs"
    ENVIRONMENT_MODIFICATION "https_proxy=unset:;http_proxy=unset:;HTTPS_PROXY=unset:;HTTP_PROXY=unset:;ALL_PROXY=unset:;all_proxy=unset:")
endfunction()

iotc_hostile_dps_test(dps_retry)
iotc_hostile_dps_test(dps_answers)
iotc_hostile_dps_test(dps_connect)
