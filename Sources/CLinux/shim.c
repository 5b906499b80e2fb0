// GNU-only syscalls, compiled with _GNU_SOURCE apart from the header Swift imports.
#define _GNU_SOURCE
#include <sys/socket.h>
#include <malloc.h>
#include "CLinux.h"

int konnect_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int konnect_malloc_trim(void) {
    return malloc_trim(0);
}
