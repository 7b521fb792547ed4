/* wordfreq: counts the words of its standard input and prints them, most
 * frequent first (ties in byte order), one "count word" line each.
 *
 * An ordinary C program: stdio, malloc and qsort, nothing Pappus-specific. Built
 * natively (`cc -O2 -o wordfreq wordfreq.c`) it behaves exactly as it does as a
 * Pappus WASI function (`clang --target=wasm32-wasi --sysroot=/usr -O2`).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *word;
    long count;
};

static struct entry *entries;
static size_t used, capacity;

static void count(const char *word) {
    for (size_t i = 0; i < used; i++) {
        if (strcmp(entries[i].word, word) == 0) {
            entries[i].count++;
            return;
        }
    }
    if (used == capacity) {
        capacity = capacity ? capacity * 2 : 64;
        entries = realloc(entries, capacity * sizeof *entries);
        if (!entries) {
            fprintf(stderr, "wordfreq: out of memory\n");
            exit(1);
        }
    }
    entries[used].word = strdup(word);
    entries[used].count = 1;
    used++;
}

static int by_count_then_word(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

int main(void) {
    char line[4096];
    char word[256];
    while (fgets(line, sizeof line, stdin)) {
        size_t len = 0;
        for (char *p = line;; p++) {
            if (*p && isalnum((unsigned char)*p)) {
                if (len + 1 < sizeof word)
                    word[len++] = (char)tolower((unsigned char)*p);
            } else {
                if (len) {
                    word[len] = '\0';
                    count(word);
                    len = 0;
                }
                if (!*p)
                    break;
            }
        }
    }
    qsort(entries, used, sizeof *entries, by_count_then_word);
    for (size_t i = 0; i < used; i++)
        printf("%ld %s\n", entries[i].count, entries[i].word);
    return 0;
}
