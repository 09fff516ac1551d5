// The thread-per-connection echo server of `make bench-echo`: the classic blocking anchor.
//
// A blocking accept loop starts one detached pthread per connection, which reads and writes
// back everything it reads until the peer closes. Unlike the other servers it cannot be held
// to 2 threads: each connection has its own (1,000 under the benchmark's load), and the kernel
// schedules them all on the machine's cores.
//
// Binds 127.0.0.1 on a free port, prints `port=<n>` and serves until killed.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what) {
    fprintf(stderr, "echo_threads: %s: %s\n", what, strerror(errno));
    exit(1);
}

// Writes all `count` bytes; false when the peer went away.
static int write_all(int fd, const char *buffer, ssize_t count) {
    while (count > 0) {
        ssize_t n = write(fd, buffer, (size_t)count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        buffer += n;
        count -= n;
    }
    return 1;
}

static void *serve(void *argument) {
    int fd = (int)(intptr_t)argument;
    char buffer[4096];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || !write_all(fd, buffer, n)) break;
    }
    close(fd);
    return NULL;
}

int main(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0 };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    // The client connects 1,000 times at once: a short backlog would drop SYNs and stall it.
    if (listen(listener, 1024) != 0) die("listen");
    socklen_t length = sizeof address;
    if (getsockname(listener, (struct sockaddr *)&address, &length) != 0) die("getsockname");
    printf("port=%d\n", ntohs(address.sin_port));
    fflush(stdout);

    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            die("accept");
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t thread;
        if (pthread_create(&thread, &attributes, serve, (void *)(intptr_t)fd) != 0) {
            errno = EAGAIN;
            die("pthread_create");
        }
    }
}
