/*
 * imports_something: a hostile function that imports a host function
 * (`env`.`host_function`). Pappus refuses it at compile time, naming the import.
 * Built with clang and --allow-undefined by build.sh (which is what turns the
 * undefined symbol into an import).
 */
#include "pappus.h"

__attribute__((import_module("env"), import_name("host_function")))
extern uint32_t host_function(uint32_t);

__attribute__((export_name("pappus_entry")))
uint32_t pappus_entry(uint32_t region) {
    pappus_header *h = PAPPUS_PTR(pappus_header, region);
    if (!pappus_input_sets(h)) return PAPPUS_UNSUPPORTED_ABI;
    return host_function(region);
}
