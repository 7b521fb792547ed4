/*
 * {{function}} (stdin) => (stdout): reads its input on stdin and writes
 * "Hello, <input>!" on stdout.
 *
 * An ordinary C program, run as a pure function by Pappus's WASI profile: an
 * input set named `stdin` is read on fd 0 and an output set named `stdout`
 * receives fd 1; every other input set is a read-only directory /<SET>/ with
 * one file per item, and every other output set a writable directory /<SET>/
 * whose files become its items. Nothing reaches the operating system.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    size_t len = 0, cap = 4096;
    char *input = malloc(cap);
    if (input == NULL) {
        fprintf(stderr, "{{function}}: out of memory\n");
        return 1;
    }
    size_t n;
    while ((n = fread(input + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(input, cap * 2);
            if (bigger == NULL) {
                fprintf(stderr, "{{function}}: out of memory\n");
                return 1;
            }
            input = bigger;
            cap *= 2;
        }
    }
    while (len > 0 && (input[len - 1] == '\n' || input[len - 1] == '\r' ||
                       input[len - 1] == ' ' || input[len - 1] == '\t')) {
        len--;
    }
    input[len] = '\0';
    printf("Hello, %s!", input);
    free(input);
    return 0;
}
