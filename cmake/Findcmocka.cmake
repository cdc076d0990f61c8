# SPDX-License-Identifier: MIT
# Finds cmocka (Debian: libcmocka-dev) through pkg-config, as the imported target
# PkgConfig::CMOCKA. A find module, so -DCMAKE_DISABLE_FIND_PACKAGE_cmocka=ON hides it.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(cmocka REQUIRED_VARS CMOCKA_LINK_LIBRARIES VERSION_VAR CMOCKA_VERSION)
