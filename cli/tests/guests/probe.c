/* probe: prints what a WASI function sees, one "what value" line each: the time
 * (`time(NULL)`), 8 random bytes in hex (`getentropy`), its arguments and its
 * environment. With "fail" as its first argument it writes to stderr and exits
 * with status 3. Compiled by the tests with clang against wasi-libc. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "fail") == 0) {
        fprintf(stderr, "probe: failing on purpose\n");
        return 3;
    }
    unsigned char random[8];
    if (getentropy(random, sizeof random) != 0)
        return 1;
    printf("time %lld\nrandom ", (long long)time(NULL));
    for (size_t i = 0; i < sizeof random; i++)
        printf("%02x", random[i]);
    printf("\n");
    for (int i = 0; i < argc; i++)
        printf("arg %s\n", argv[i]);
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    return 0;
}
