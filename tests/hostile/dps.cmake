# SPDX-License-Identifier: MIT
# The hostile DPS (dps_server.mjs, HTTPS and MQTT) and the provisioning tests against it.
set(IOTC_HOSTILE_DPS_STATE "${CMAKE_CURRENT_BINARY_DIR}/dps")
file(MAKE_DIRECTORY "${IOTC_HOSTILE_DPS_STATE}")
add_library(iotc_hostile_dps STATIC dps_harness.c)
target_include_directories(iotc_hostile_dps PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(iotc_hostile_dps PUBLIC iotc::iotc)
target_compile_options(iotc_hostile_dps PRIVATE ${IOTC_WARNINGS})
target_compile_definitions(iotc_hostile_dps PRIVATE _POSIX_C_SOURCE=200809L
  IOTC_HOSTILE_NODE="${IOTC_NODE}" IOTC_HOSTILE_DPS_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/dps_server.mjs"
  IOTC_HOSTILE_STATE="${IOTC_HOSTILE_DPS_STATE}")

# Each program makes the server certificates once, in a directory of its own.
foreach(name dps_retry dps_answers dps_connect)
  iotc_hostile_test(${name} SOURCES ${name}.c LIBRARIES iotc_hostile_dps TIMEOUT 300)
  set_property(TEST hostile.${name} APPEND PROPERTY ENVIRONMENT
    "IOTC_HOSTILE_CERTS=${IOTC_HOSTILE_DPS_STATE}/${name}-certs")
endforeach()
