// Compiled into every executable when QS_ALLOCATOR=jemalloc (cmake/QuantscopeAllocator.cmake).
// jemalloc reads this global at its first allocation. With its defaults it hands freed
// dirty pages back to the kernel after 10 s and decays muzzy ones, and a torch forward pass
// frees and re-allocates hundreds of MB per batch: keep freed extents mapped and reuse them
// (decay off) and never unmap address space (retain), as a caching allocator should.
extern "C" {
__attribute__((visibility("default"))) const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true";
}
