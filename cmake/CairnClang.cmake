# The clang-15 build modes, each chosen by the preset of the same name
# (CMakePresets.json). All three need clang: GCC ignores lock annotations and
# has no libFuzzer.
#
#   CAIRN_THREAD_SAFETY  -Wthread-safety as an error on project code, so every
#                        ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED is checked
#   CAIRN_TSAN           ThreadSanitizer; binaries load the instrumented Abseil
#                        built by scripts/build-tsan-deps.sh in place of Debian's
#   CAIRN_FUZZ           ASan + UBSan + libFuzzer coverage on all code; the fuzz
#                        targets link libFuzzer's own main (tests/fuzz)
option(CAIRN_THREAD_SAFETY "Check lock annotations (clang -Wthread-safety, as errors)" OFF)
option(CAIRN_TSAN "Build with ThreadSanitizer against the instrumented Abseil" OFF)
option(CAIRN_FUZZ "Build the fuzz targets with libFuzzer, ASan and UBSan" OFF)
set(CAIRN_TSAN_DEPS_PREFIX "${PROJECT_SOURCE_DIR}/build/tsan-deps" CACHE PATH
    "Prefix of the ThreadSanitizer-instrumented Abseil (scripts/build-tsan-deps.sh)")

if(CAIRN_THREAD_SAFETY OR CAIRN_TSAN OR CAIRN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CAIRN_THREAD_SAFETY, CAIRN_TSAN and CAIRN_FUZZ need clang "
                        "(use the clang, tsan or fuzz preset)")
  endif()
endif()
if(CAIRN_TSAN AND (CAIRN_FUZZ OR CAIRN_SANITIZE))
  message(FATAL_ERROR "ThreadSanitizer cannot be combined with ASan (CAIRN_FUZZ, CAIRN_SANITIZE)")
endif()

if(CAIRN_THREAD_SAFETY)
  # Project code only: CAIRN_WARNINGS is what cairn_library & co. give their
  # own sources. -Wthread-safety-beta is left out: it checks more but also
  # reports unannotated patterns clang itself calls experimental.
  list(APPEND CAIRN_WARNINGS -Wthread-safety)
endif()

if(CAIRN_TSAN)
  set(lib ${CAIRN_TSAN_DEPS_PREFIX}/lib)
  if(NOT EXISTS ${lib}/libabsl_synchronization.so)
    message(FATAL_ERROR "No instrumented Abseil in ${CAIRN_TSAN_DEPS_PREFIX}: run "
                        "scripts/build-tsan-deps.sh first")
  endif()
  # -fvisibility-inlines-hidden: under C++20 libstdc++ declares no extern
  # templates for std::string, so each binary instantiates its own
  # (instrumented) copies of members such as _M_append/_M_mutate, which are
  # constexpr and so inline. Exported, they would interpose on libstdc++.so's:
  # uninstrumented RocksDB would run our instrumented copies on the buffers its
  # write-group leader takes over through its own (invisible) atomics, and TSan
  # would report those hand-offs as races in Cairn's frames. Hidden, every
  # third-party library keeps calling libstdc++.so's copies. Check with
  # `nm -D --defined-only build/tsan/node/cairn-node | c++filt | grep basic_string`.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -fvisibility-inlines-hidden)
  # Programs link against Debian's libabsl as usual; the instrumented copies
  # have the same SONAMEs and come first at run time. DT_RPATH rather than
  # DT_RUNPATH: the loader searches an executable's RPATH for the
  # dependencies of its libraries too, so libgrpc's own libabsl_* needs also
  # resolve to the instrumented copies, and cairn-node processes started by
  # the integration tests need no environment to find them.
  add_link_options(-fsanitize=thread LINKER:--disable-new-dtags LINKER:-rpath,${lib})
  unset(lib)
endif()

if(CAIRN_FUZZ)
  # Coverage instrumentation on everything a target reaches; only the fuzz
  # targets link libFuzzer's runtime and main (-fsanitize=fuzzer, in
  # tests/fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
