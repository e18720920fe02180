/* Loads the plugin named by /etc/greeter.conf ("plugin=PATH") with dlopen and calls greet().
 * The plugin is enabled by a marker file next to it, checked with access() only: fanotify
 * never sees that check, so slim keeps the marker only when asked to (--include-path). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char line[512], marker[600];
    const char *path = NULL;
    FILE *conf = fopen("/etc/greeter.conf", "r");
    if (!conf) { perror("/etc/greeter.conf"); return 2; }
    while (fgets(line, sizeof line, conf)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "plugin=", 7) == 0) path = line + 7;
        if (path) break;
    }
    fclose(conf);
    if (!path) { fprintf(stderr, "no plugin= line\n"); return 2; }
    snprintf(marker, sizeof marker, "%s.enabled", path);
    if (access(marker, F_OK) != 0) { fprintf(stderr, "plugin %s is not enabled\n", path); return 3; }
    void *handle = dlopen(path, RTLD_NOW);
    if (!handle) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 4; }
    const char *(*greet)(void) = (const char *(*)(void))dlsym(handle, "greet");
    if (!greet) { fprintf(stderr, "no greet()\n"); return 5; }
    printf("%s\n", greet());
    return 0;
}
