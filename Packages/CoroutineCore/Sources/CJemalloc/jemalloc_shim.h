// jemalloc, Debian's libjemalloc-dev: the runtime's allocator (see Package.swift).
#include <jemalloc/jemalloc.h>
