/*
 * pappus.h: the Pappus guest ABI, version 1, for C authors.
 *
 * The full specification is docs/abi.md. In short: the module imports nothing,
 * exports `memory` and `pappus_entry(region) -> status`. The host places the input
 * region (a pappus_header followed by set and item descriptors, names and data) in
 * pages just above the module's declared initial memory, and passes its address. The guest builds its outputs
 * anywhere in its own memory, stores the address of a pappus_output into
 * header->output, and returns PAPPUS_OK (0) or a non-zero status. Allocate with
 * __builtin_wasm_memory_grow (see pappus_alloc below), never from addresses the
 * guest did not grow itself: the region (and the host's input area around it)
 * sits above the guest's initial memory.
 *
 * Build (freestanding, no imports):
 *   clang --target=wasm32 -O2 -nostdlib -ffreestanding -Wl,--no-entry \
 *         -Wl,--strip-all -I sdk/include -o f.wasm f.c
 */
#ifndef PAPPUS_H
#define PAPPUS_H

#include <stddef.h>
#include <stdint.h>

#define PAPPUS_ABI_MAGIC 0x53555050u   /* the bytes "PPUS" */
#define PAPPUS_ABI_VERSION 1u

/* Status codes returned by pappus_entry. */
#define PAPPUS_OK 0u
#define PAPPUS_FAILED 1u
#define PAPPUS_BAD_INPUT 2u
#define PAPPUS_UNSUPPORTED_ABI 3u
/* 4..=255 reserved; 256 and above are free for function-specific codes. */

/* An item: name, key, data. Same layout for inputs and outputs (24 bytes). */
typedef struct pappus_item {
    uint32_t name_ptr;
    uint32_t name_len;
    uint64_t key;
    uint32_t data_ptr;
    uint32_t data_len;
} pappus_item;

/* A named set of items (16 bytes). */
typedef struct pappus_set {
    uint32_t name_ptr;
    uint32_t name_len;
    uint32_t items;       /* address of item_count pappus_item */
    uint32_t item_count;
} pappus_set;

/* The input region header (32 bytes), at the address passed to pappus_entry. */
typedef struct pappus_header {
    uint32_t magic;       /* PAPPUS_ABI_MAGIC */
    uint32_t version;     /* PAPPUS_ABI_VERSION */
    uint32_t region_len;
    uint32_t set_count;
    uint32_t sets;        /* address of set_count pappus_set */
    uint32_t output;      /* written by the guest: address of its pappus_output, or 0 */
    uint64_t reserved;
} pappus_header;

/* The output descriptor (16 bytes) the guest points header->output at. */
typedef struct pappus_output {
    uint32_t set_count;
    uint32_t sets;        /* address of set_count pappus_set */
    uint32_t error_ptr;   /* UTF-8 message, read only when the status is not 0 */
    uint32_t error_len;
} pappus_output;

_Static_assert(sizeof(pappus_item) == 24, "pappus_item is 24 bytes");
_Static_assert(sizeof(pappus_set) == 16, "pappus_set is 16 bytes");
_Static_assert(sizeof(pappus_header) == 32, "pappus_header is 32 bytes");
_Static_assert(sizeof(pappus_output) == 16, "pappus_output is 16 bytes");

/* Guest addresses are plain pointers on wasm32. */
#define PAPPUS_PTR(type, addr) ((type *)(uintptr_t)(addr))
#define PAPPUS_ADDR(ptr) ((uint32_t)(uintptr_t)(ptr))

/* The input sets, or NULL if the region is not ABI v1. */
static inline const pappus_set *pappus_input_sets(const pappus_header *h) {
    if (h->magic != PAPPUS_ABI_MAGIC || h->version != PAPPUS_ABI_VERSION) return 0;
    return PAPPUS_PTR(const pappus_set, h->sets);
}

/*
 * A bump allocator over fresh pages from memory.grow: never overlaps the input
 * region, never frees (each call runs in a fresh instance). Returns NULL when
 * memory cannot grow.
 */
static inline void *pappus_alloc(size_t size, size_t align) {
    static uintptr_t next, end;
    uintptr_t start = (next + align - 1) & ~(uintptr_t)(align - 1);
    if (end == 0 || start + size > end || start + size < start) {
        size_t pages = (size + align) / 65536 + 1;
        size_t old = __builtin_wasm_memory_grow(0, pages);
        if (old == (size_t)-1) return 0;
        uintptr_t fresh = (uintptr_t)old * 65536;
        start = (fresh == end && end != 0) ? start : ((fresh + align - 1) & ~(uintptr_t)(align - 1));
        end = fresh + pages * 65536;
    }
    next = start + size;
    return (void *)start;
}

#endif /* PAPPUS_H */
