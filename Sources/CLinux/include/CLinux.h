// Thin shims over Linux syscalls that Swift's Glibc module does not export (epoll, eventfd, timerfd, accept4).
#ifndef KONNECT_CLINUX_H
#define KONNECT_CLINUX_H

// No _GNU_SOURCE here: it would make these headers differ from SwiftGlibc's and break importing both.
// GNU-only calls (accept4) are wrapped in shim.c instead.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>

static inline int konnect_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int konnect_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

/// Waits for events; fills parallel arrays so Swift need not know the packed struct layout.
/// Returns the number of events, or -1 with errno set.
static inline int konnect_epoll_wait(int epfd, uint32_t *events, uint64_t *datas, int max, int timeout_ms) {
    struct epoll_event evs[max > 256 ? 256 : max];
    int n = epoll_wait(epfd, evs, max > 256 ? 256 : max, timeout_ms);
    for (int i = 0; i < n; i++) { events[i] = evs[i].events; datas[i] = evs[i].data.u64; }
    return n;
}

static inline int konnect_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static inline int konnect_timerfd(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

/// Arms a one-shot timer `ns` nanoseconds from now (0 disarms).
static inline int konnect_timerfd_arm(int fd, int64_t ns) {
    struct itimerspec spec = {0};
    spec.it_value.tv_sec = ns / 1000000000;
    spec.it_value.tv_nsec = ns % 1000000000;
    return timerfd_settime(fd, 0, &spec, 0);
}

/// accept4(…, SOCK_NONBLOCK | SOCK_CLOEXEC); defined in shim.c (needs _GNU_SOURCE).
int konnect_accept4(int fd, struct sockaddr *addr, socklen_t *len);

static inline int konnect_socket(int domain, int type) {
    return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static inline uint32_t konnect_epollin(void) { return EPOLLIN; }
static inline uint32_t konnect_epollout(void) { return EPOLLOUT; }
static inline uint32_t konnect_epollerr(void) { return EPOLLERR; }
static inline uint32_t konnect_epollhup(void) { return EPOLLHUP; }
static inline uint32_t konnect_epollrdhup(void) { return EPOLLRDHUP; }

/// Raises the soft open-files limit to the hard limit; returns the new soft limit.
static inline long konnect_raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

static inline int konnect_errno(void) { return errno; }

/// glibc malloc_trim(0): gives free heap memory (in every arena) back to the kernel; defined in shim.c.
int konnect_malloc_trim(void);

/// Bytes in the socket's send queue not yet acknowledged by the peer (SIOCOUTQ, linux/sockios.h), or -1.
static inline int konnect_send_queue(int fd) {
    int n = 0;
    if (ioctl(fd, 0x5411 /* SIOCOUTQ = TIOCOUTQ */, &n) != 0) return -1;
    return n;
}

#endif
