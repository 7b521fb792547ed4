/* picky: copies stdin to stdout, upper-cased, the way a converter turns an
 * image into a thumbnail; an item whose data starts with "bad" is one it
 * cannot decode: it says so on stderr and traps, as a decoder hitting a
 * corrupt file would. Compiled by the tests with clang against wasi-libc. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char data[4096];
    size_t n = fread(data, 1, sizeof data, stdin);
    if (n >= 3 && memcmp(data, "bad", 3) == 0) {
        fprintf(stderr, "picky: cannot decode this item\n");
        fflush(stderr);
        __builtin_trap();
    }
    for (size_t i = 0; i < n; i++)
        putchar(toupper((unsigned char)data[i]));
    return 0;
}
