# SPDX-License-Identifier: MIT
# The device model (client config model_file) against the emulator, with the environmental
# sensor's template. Included by CMakeLists.txt in this directory.
iotc_integration_test(central_model SOURCES central_model.c
  LIBRARIES PkgConfig::CMOCKA TIMEOUT 180)
if(TARGET central_model)
  target_compile_definitions(central_model PRIVATE
    IOTC_EXAMPLE_MODEL="${PROJECT_SOURCE_DIR}/examples/environmental_sensor/EnvironmentalSensor.json")
endif()
