# The process-wide malloc every Quantscope executable, test and module links.
#
# Why: glibc's malloc serves every allocation above its mmap threshold (at most 32 MB,
# and torch's temporaries often exceed it) with a fresh mmap and returns it with munmap on
# free, so each forward pass page-faults its activations in again; on the 2-core machine the
# kernel's share was 77 % of an eval (issue 14). A caching allocator keeps freed spans for
# reuse. Measured choices and numbers: README.md, "Speed".
#
#   QS_ALLOCATOR=tcmalloc (default)  gperftools' tcmalloc_minimal (Debian libgoogle-perftools-dev)
#   QS_ALLOCATOR=jemalloc            jemalloc with decay off (Debian libjemalloc-dev)
#   QS_ALLOCATOR=system              glibc malloc (for comparisons and sanitizer builds)
#
# Targets link `quantscope_allocator` (an INTERFACE target, carried by quantscope_options).
set(QS_ALLOCATOR "tcmalloc" CACHE STRING "malloc implementation: tcmalloc, jemalloc or system")
set_property(CACHE QS_ALLOCATOR PROPERTY STRINGS tcmalloc jemalloc system)

add_library(quantscope_allocator INTERFACE)
set(QS_ALLOCATOR_LIBRARY "")
if(QS_ALLOCATOR STREQUAL "tcmalloc")
  find_library(QS_TCMALLOC_LIBRARY NAMES tcmalloc_minimal)
  set(QS_ALLOCATOR_LIBRARY "${QS_TCMALLOC_LIBRARY}")
elseif(QS_ALLOCATOR STREQUAL "jemalloc")
  find_library(QS_JEMALLOC_LIBRARY NAMES jemalloc)
  set(QS_ALLOCATOR_LIBRARY "${QS_JEMALLOC_LIBRARY}")
elseif(NOT QS_ALLOCATOR STREQUAL "system")
  message(FATAL_ERROR "QS_ALLOCATOR must be tcmalloc, jemalloc or system (got '${QS_ALLOCATOR}')")
endif()

if(NOT QS_ALLOCATOR STREQUAL "system")
  if(NOT QS_ALLOCATOR_LIBRARY OR QS_ALLOCATOR_LIBRARY MATCHES "NOTFOUND")
    message(FATAL_ERROR "QS_ALLOCATOR=${QS_ALLOCATOR}: library not found (Debian: "
                        "libgoogle-perftools-dev for tcmalloc, libjemalloc-dev for jemalloc; "
                        "or configure with -DQS_ALLOCATOR=system)")
  endif()
  # Nothing references the allocator by name (it replaces malloc/free by interposition), so
  # a linker running with --as-needed would drop it: keep it NEEDED explicitly.
  target_link_libraries(quantscope_allocator INTERFACE
    "-Wl,--push-state,--no-as-needed" "${QS_ALLOCATOR_LIBRARY}" "-Wl,--pop-state")
endif()
if(QS_ALLOCATOR STREQUAL "jemalloc")
  # Its tuning, compiled into each executable (not into libraries, which would define it twice).
  target_sources(quantscope_allocator INTERFACE
    "$<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:${CMAKE_CURRENT_LIST_DIR}/jemalloc_config.cpp>")
endif()
message(STATUS "Quantscope allocator: ${QS_ALLOCATOR} ${QS_ALLOCATOR_LIBRARY}")
