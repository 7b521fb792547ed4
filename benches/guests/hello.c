/* hello: copies its standard input to its standard output. The WASI cold-start
 * workload of benches/benches/wasi.rs (one 1 KiB stdin item in, stdout out). */
#include <stdio.h>

int main(void) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        fwrite(buf, 1, n, stdout);
    return 0;
}
