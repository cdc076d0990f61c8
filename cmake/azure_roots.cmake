# SPDX-License-Identifier: MIT
# Compiles cmake/azure-roots.pem into the library, returned by iotc__azure_roots_pem(), so the
# default trust roots do not depend on where the library is installed (lib/dps/default_roots.c).
set(IOTC_ROOTS_PEM "${CMAKE_CURRENT_LIST_DIR}/azure-roots.pem")
set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${IOTC_ROOTS_PEM}")
file(STRINGS "${IOTC_ROOTS_PEM}" _iotc_roots_lines)
set(_iotc_roots_c "")
foreach(_line IN LISTS _iotc_roots_lines)
  string(REPLACE "\\" "\\\\" _line "${_line}")
  string(REPLACE "\"" "\\\"" _line "${_line}")
  string(APPEND _iotc_roots_c "    \"${_line}\\n\"\n")
endforeach()
set(IOTC_ROOTS_SOURCE "${PROJECT_BINARY_DIR}/generated/azure_roots.c")
file(CONFIGURE OUTPUT "${IOTC_ROOTS_SOURCE}" CONTENT
"/* Generated from cmake/azure-roots.pem by cmake/azure_roots.cmake: do not edit. */
/* A function, not an extern array: sanitizers add their own global symbols for arrays. */
const char *iotc__azure_roots_pem(void);
const char *iotc__azure_roots_pem(void) {
  static const char pem[] =
${_iotc_roots_c}    \"\";
  return pem;
}
" @ONLY)
