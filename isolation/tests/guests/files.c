/* Exercises the WASI profile's file conventions from plain C: listing an input
 * set, stat, reading items and their keys, writing output items with keys,
 * mkdir in an output set, the usual errors, time(), argv and the environment. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void expect_errno(const char *what, FILE *f, int want) {
    printf("%s: %s\n", what, (!f && errno == want) ? "ok" : "WRONG");
    if (f)
        fclose(f);
}

int main(int argc, char **argv) {
    const char *greeting = getenv("GREETING");
    printf("argc=%d argv1=%s greeting=%s\n", argc, argc > 1 ? argv[1] : "-",
           greeting ? greeting : "-");
    printf("time=%lld\n", (long long)time(NULL));

    DIR *dir = opendir("/Docs");
    if (!dir) {
        perror("opendir /Docs");
        return 2;
    }
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        const char *name = entry->d_name;
        if (name[0] == '.')
            continue;
        char path[512], key_path[512], out_path[512], out_key_path[512];
        snprintf(path, sizeof path, "/Docs/%s", name);
        struct stat st;
        if (stat(path, &st) != 0) {
            perror(path);
            return 3;
        }
        if (S_ISDIR(st.st_mode)) {
            printf("dir %s\n", name);
            continue;
        }
        snprintf(key_path, sizeof key_path, "/.keys/Docs/%s", name);
        FILE *k = fopen(key_path, "r");
        unsigned long long key = 0;
        if (!k || fscanf(k, "%llu", &key) != 1) {
            perror(key_path);
            return 4;
        }
        fclose(k);
        char *data = malloc(st.st_size + 1);
        FILE *f = fopen(path, "r");
        size_t n = fread(data, 1, st.st_size, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            data[i] = toupper((unsigned char)data[i]);
        printf("file %s size=%lld key=%llu\n", name, (long long)st.st_size, key);

        snprintf(out_path, sizeof out_path, "/Out/%s.upper", name);
        FILE *o = fopen(out_path, "w");
        fwrite(data, 1, n, o);
        fclose(o);
        snprintf(out_key_path, sizeof out_key_path, "/.keys/Out/%s.upper", name);
        FILE *ok = fopen(out_key_path, "w");
        fprintf(ok, "%llu\n", key + 100);
        fclose(ok);
        free(data);
    }
    closedir(dir);

    if (mkdir("/Out/sub", 0755) != 0) {
        perror("mkdir /Out/sub");
        return 5;
    }
    FILE *note = fopen("/Out/sub/note.txt", "w");
    fputs("note", note);
    fclose(note);

    expect_errno("write input", fopen("/Docs/a.txt", "w"), EACCES);
    expect_errno("create in input", fopen("/Docs/new.txt", "w"), EROFS);
    expect_errno("missing", fopen("/Docs/missing.txt", "r"), ENOENT);
    expect_errno("under a file", fopen("/Docs/a.txt/x", "r"), ENOTDIR);
    return 0;
}
