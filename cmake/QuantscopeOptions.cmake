# One INTERFACE target carries the compile options every Quantscope target shares.
add_library(quantscope_options INTERFACE)
target_compile_features(quantscope_options INTERFACE cxx_std_20)
target_compile_options(quantscope_options INTERFACE
  -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
# -fPIC for executables too (not -fPIE): no copy relocations of libstdc++ data such
# as std::cerr, which libsentencepiece (loaded with RTLD_DEEPBIND) would otherwise
# see uninitialised; and one PIC setting lets every target share the torch PCH.
target_compile_options(quantscope_options INTERFACE -fPIC)
# torch has a member called `slots`; Qt keywords would clash with it.
target_compile_definitions(quantscope_options INTERFACE QT_NO_KEYWORDS)

# Absolute location of the bundled resources in the source tree, so that a build
# directory finds the default model and data without an install step.
set(QS_RESOURCE_DIR "${CMAKE_SOURCE_DIR}/resources" CACHE PATH "Bundled model and data")

# Every executable, test and module gets the caching allocator (QuantscopeAllocator.cmake).
include(QuantscopeAllocator)
target_link_libraries(quantscope_options INTERFACE quantscope_allocator)

# Modules that link static libraries export only their entry points: hidden symbols of
# the libraries inside keep the dynamic symbol tables (and so load time) small and
# cannot interpose on anything else in the process.
set(QS_MODULE_LINK_OPTIONS "LINKER:--exclude-libs,ALL")
