# Small helpers so that every folder declares its library and tests the same way.

# shardcast_library(NAME SOURCES a.cc b.cc DEPS lib1 lib2)
function(shardcast_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# shardcast_unit_test(NAME SOURCES a_test.cc DEPS lib LABELS area)
# Builds a doctest binary and registers it with the labels `unit` and the area.
function(shardcast_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${PROJECT_SOURCE_DIR}/tests/unit/doctest_main.cc ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} doctest::doctest)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit;${ARG_LABELS}")
endfunction()

# shardcast_integration_test(NAME SCRIPT path.py LABELS area [TIMEOUT s])
# Runs a Python harness script against the built binaries with real servers on loopback.
function(shardcast_integration_test name)
  cmake_parse_arguments(ARG "" "SCRIPT;TIMEOUT" "LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_test(NAME ${name}
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/${ARG_SCRIPT}
                   --bin-dir ${PROJECT_BINARY_DIR})
  set_tests_properties(${name} PROPERTIES LABELS "integration;${ARG_LABELS}"
                       TIMEOUT ${ARG_TIMEOUT})
endfunction()

# shardcast_server_test(NAME SOURCES a_test.cc DEPS lib LABELS area [TIMEOUT s])
# Builds a doctest binary that starts real servers (nginx, ...) on loopback and
# registers it with the labels `integration` and the area.
function(shardcast_server_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${PROJECT_SOURCE_DIR}/tests/unit/doctest_main.cc ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} doctest::doctest)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "integration;${ARG_LABELS}"
                       TIMEOUT ${ARG_TIMEOUT})
endfunction()
