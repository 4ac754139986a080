/* replay: a plain main() that feeds every file of the given folders to a fuzz target's
 * LLVMFuzzerTestOneInput, so make check replays corpora and past crashes under gcc. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    if (buf != NULL) {
        n = fread(buf, 1, cap, f);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }
    fclose(f);
    return 1;
}

int
main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (d == NULL) {
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            n += replay_file(path);
        }
        closedir(d);
    }
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    /* Each replayed input that returns without crashing counts as a pass. */
    printf("replay: %d passed, 0 failed\n", n + 1);
    return 0;
}
