# Build helpers: one library target per subsystem folder, declared with
# sluice_cc_library(NAME SRCS ... DEPS ...), aliased as sluice::NAME, and one unit
# test binary per subsystem via sluice_cc_test(NAME SRCS ... DEPS ...), libFuzzer targets
# via sluice_fuzz_target(NAME SRCS ... DEPS ...) (with SLUICE_FUZZ=ON).
include_guard(GLOBAL)

option(SLUICE_WERROR "Treat warnings as errors" OFF)
option(SLUICE_SANITIZE "Build with AddressSanitizer and UBSan" OFF)

set(SLUICE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(SLUICE_WERROR)
  list(APPEND SLUICE_WARNINGS -Werror)
endif()

if(SLUICE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer targets (sluice_fuzz_target), built only with -DSLUICE_FUZZ=ON and clang: the
# libraries are instrumented for coverage (fuzzer-no-link) and ASan/UBSan, the targets
# link libFuzzer's main. `./dev fuzz` configures build-fuzz this way and runs them.
option(SLUICE_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(SLUICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SLUICE_FUZZ=ON needs clang's libFuzzer, but the C++ compiler is "
                        "${CMAKE_CXX_COMPILER_ID} (${CMAKE_CXX_COMPILER}): configure a fresh build "
                        "folder with CC=clang CXX=clang++ (apt-get install clang)")
  endif()
  if(SLUICE_SANITIZE)
    message(FATAL_ERROR "SLUICE_FUZZ=ON already builds with ASan/UBSan: leave SLUICE_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# sluice_fuzz_target(NAME SRCS ... DEPS ... [CORPUS dir]): a libFuzzer binary, part of the
# `fuzz` target; its seed corpus (default: fuzz/corpus next to the CMakeLists) is listed
# in <build>/fuzz/NAME.txt (binary path, then corpus path) for `./dev fuzz`.
function(sluice_fuzz_target name)
  cmake_parse_arguments(ARG "" "CORPUS" "SRCS;DEPS" ${ARGN})
  if(NOT SLUICE_FUZZ)
    return()
  endif()
  if(NOT ARG_CORPUS)
    set(ARG_CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${SLUICE_WARNINGS} -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_definitions(${name} PRIVATE SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT TARGET fuzz)
    add_custom_target(fuzz)
  endif()
  add_dependencies(fuzz ${name})
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/fuzz/${name}.txt
       CONTENT "$<TARGET_FILE:${name}>\n${ARG_CORPUS}\n")
endfunction()

function(sluice_cc_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(sluice_${name} STATIC ${ARG_SRCS})
  add_library(sluice::${name} ALIAS sluice_${name})
  target_include_directories(sluice_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(sluice_${name} PRIVATE ${SLUICE_WARNINGS})
  target_link_libraries(sluice_${name} PUBLIC ${ARG_PUBLIC_DEPS} ${ARG_DEPS})
endfunction()

function(sluice_cc_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${SLUICE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
  # `unit-tests` builds just what `ctest -L unit` runs (the sanitizer build needs no more).
  if("unit" IN_LIST ARG_LABELS)
    if(NOT TARGET unit-tests)
      add_custom_target(unit-tests)
    endif()
    add_dependencies(unit-tests ${name})
  endif()
endfunction()
