# SPDX-License-Identifier: MIT
# Tests against the hostile hub (hub_server.mjs, driven through hub_ctl.h).
add_library(iotc_hub_ctl STATIC hub_ctl.c)
target_link_libraries(iotc_hub_ctl PUBLIC iotc::iotc iotc_integration_support jansson::jansson Threads::Threads)
target_compile_options(iotc_hub_ctl PRIVATE ${IOTC_WARNINGS})
target_compile_definitions(iotc_hub_ctl PRIVATE _POSIX_C_SOURCE=200809L
  IOTC_HUB_NODE="${IOTC_NODE}" IOTC_HUB_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/hub_server.mjs")

iotc_hostile_test(hub_suback SOURCES hub_suback.c LIBRARIES iotc_hub_ctl)
iotc_hostile_test(hub_versions SOURCES hub_versions.c LIBRARIES iotc_hub_ctl)
iotc_hostile_test(hub_commands SOURCES hub_commands.c LIBRARIES iotc_hub_ctl)
iotc_hostile_test(hub_liveness SOURCES hub_liveness.c LIBRARIES iotc_hub_ctl TIMEOUT 180)
iotc_hostile_test(hub_disconnect SOURCES hub_disconnect.c LIBRARIES iotc_hub_ctl TIMEOUT 180)
iotc_hostile_test(hub_blocking SOURCES hub_blocking.c LIBRARIES iotc_hub_ctl TIMEOUT 180)
iotc_hostile_test(hub_bounds SOURCES hub_bounds.c LIBRARIES iotc_hub_ctl TIMEOUT 180)
iotc_hostile_test(hub_c2d_bags SOURCES hub_c2d_bags.c LIBRARIES iotc_hub_ctl)

# The soak: 10 minutes of random hub faults with 3 clients (label soak; ctest -LE soak skips it).
# tests/hostile/hub_soak.sh runs it longer and with more clients, outside CI.
iotc_hostile_test(hub_soak SOURCES hub_soak.c LIBRARIES iotc_hub_ctl TIMEOUT 900 LABELS soak)
set_property(TEST hostile.hub_soak APPEND PROPERTY ENVIRONMENT "${IOTC_HOSTILE_LSAN_DROPS_OPTIONS}")
