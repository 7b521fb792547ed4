/* Links wasi-libc's socket calls (so the module imports `sock_accept`,
 * `sock_recv`, `sock_send` and `sock_shutdown`, as stock interpreter builds
 * do) and prints what each answers: no descriptor is ever a socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void show(const char *what, long r) {
    printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "-");
}

int main(void) {
    char buf[8];
    show("accept stdin", accept(0, NULL, NULL));
    show("recv stdin", recv(0, buf, sizeof buf, 0));
    show("send stdout", send(1, "x", 1, 0));
    show("shutdown stdout", shutdown(1, SHUT_RDWR));
    show("recv closed", recv(99, buf, sizeof buf, 0));
    show("send closed", send(99, "x", 1, 0));
    return 0;
}
