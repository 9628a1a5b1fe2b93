// CGearboxShims: see include/CGearboxShims.h.
#define _GNU_SOURCE
#include "CGearboxShims.h"
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

int gearbox_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
int gearbox_current_cpu(void) { return sched_getcpu(); }
pid_t gearbox_gettid(void) { return (pid_t)syscall(SYS_gettid); }
int gearbox_unshare_mount_namespace(void) { return unshare(CLONE_NEWNS); }
long gearbox_filesystem_type(const char *path) { struct statfs s; return statfs(path, &s) == 0 ? (long)s.f_type : -1; }

// Signal forwarding: the handler only calls write(2), which is async-signal-safe.
static volatile sig_atomic_t gearbox_signal_pipe = -1;
static void gearbox_signal_to_pipe(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    int fd = gearbox_signal_pipe;
    if (fd >= 0) { ssize_t ignored = write(fd, &byte, 1); (void)ignored; }
    errno = saved;
}
int gearbox_forward_signal(int signo, int fd) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = gearbox_signal_to_pipe;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    gearbox_signal_pipe = fd;
    return sigaction(signo, &action, NULL);
}
int gearbox_stop_forwarding_signal(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    return sigaction(signo, &action, NULL);
}
