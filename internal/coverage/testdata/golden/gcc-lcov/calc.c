#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int classify(int x) {
    if (x < 0) {
        return -1;
    } else if (x == 0) {
        return 0;
    }
    return x > 100 && x % 2 == 0 ? 2 : 1;
}

static int unused(int y) {
    int z = y * 2;
    if (z > 10 || z < -10)
        return z;
    return 0;
}

int sum(const char *s) {
    int t = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            t += *s - '0';
    }
    return t;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "neg") == 0) {
        printf("%d\n", classify(-5));
        return 0;
    }
    printf("%d %d\n", classify(0), classify(7));
    printf("%d\n", sum("a1b2c3"));
    if (argc > 5)
        printf("%d\n", unused(argc));
    return 0;
}
