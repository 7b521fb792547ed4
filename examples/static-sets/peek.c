/* peek: a WASI function that reads its static sets (docs/dataplane.md).
 *
 * Reads commands from stdin, one per line, and answers each on stdout:
 *   ls DIR                 one line per entry: "NAME SIZE" or "NAME/" for a folder
 *   stat PATH              "file SIZE" or "dir"
 *   read PATH OFFSET LEN   the LEN bytes at OFFSET (fewer at the end), then a newline
 *   write PATH             "written", or "refused ERRNO" when the file system says no
 *   sum PATH               reads the whole file: "BYTES CHECKSUM" (the sum of its bytes)
 * A command that fails prints "error ERRNO" (errno as a number).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[1 << 16];

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) { printf("error %d\n", errno); return; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st)) { printf("%s error %d\n", e->d_name, errno); continue; }
        if (S_ISDIR(st.st_mode)) printf("%s/\n", e->d_name);
        else printf("%s %lld\n", e->d_name, (long long)st.st_size);
    }
    closedir(d);
}

static void read_range(const char *path, long long offset, long long len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("error %d\n", errno); return; }
    if (lseek(fd, offset, SEEK_SET) < 0) { printf("error %d\n", errno); close(fd); return; }
    fflush(stdout);
    while (len > 0) {
        ssize_t n = read(fd, buf, len < (long long)sizeof buf ? (size_t)len : sizeof buf);
        if (n <= 0) break;
        fwrite(buf, 1, (size_t)n, stdout);
        len -= n;
    }
    putchar('\n');
    close(fd);
}

int main(void) {
    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char cmd[16], path[4096];
        long long a = 0, b = 0;
        int n = sscanf(line, "%15s %4095s %lld %lld", cmd, path, &a, &b);
        if (n < 2) continue;
        if (!strcmp(cmd, "ls")) list(path);
        else if (!strcmp(cmd, "stat")) {
            struct stat st;
            if (stat(path, &st)) printf("error %d\n", errno);
            else if (S_ISDIR(st.st_mode)) printf("dir\n");
            else printf("file %lld\n", (long long)st.st_size);
        } else if (!strcmp(cmd, "read") && n == 4) read_range(path, a, b);
        else if (!strcmp(cmd, "sum")) {
            int fd = open(path, O_RDONLY);
            if (fd < 0) { printf("error %d\n", errno); continue; }
            unsigned long long total = 0, sum = 0;
            ssize_t got;
            while ((got = read(fd, buf, sizeof buf)) > 0) {
                for (ssize_t i = 0; i < got; i++) sum += (unsigned char)buf[i];
                total += (unsigned long long)got;
            }
            close(fd);
            printf("%llu %llu\n", total, sum);
        } else if (!strcmp(cmd, "write")) {
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) { printf("refused %d\n", errno); continue; }
            ssize_t w = write(fd, "x", 1);
            if (w != 1) printf("refused %d\n", errno); else printf("written\n");
            close(fd);
        }
    }
    return 0;
}
