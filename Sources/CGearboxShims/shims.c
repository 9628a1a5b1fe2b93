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
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int gearbox_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
int gearbox_current_cpu(void) { return sched_getcpu(); }
pid_t gearbox_gettid(void) { return (pid_t)syscall(SYS_gettid); }
int gearbox_unshare_mount_namespace(void) { return unshare(CLONE_NEWNS); }

int gearbox_thread_cpus(int *cpus, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < capacity; cpu++) {
        if (CPU_ISSET(cpu, &set)) cpus[count++] = cpu;
    }
    return count;
}

int gearbox_pin_thread_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) { errno = EINVAL; return -1; }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

int gearbox_make_thread_idle_priority(void) {
    struct sched_param param = { .sched_priority = 0 };
    return sched_setscheduler(0, SCHED_IDLE, &param);
}

int gearbox_name_thread(const char *name) { return pthread_setname_np(pthread_self(), name); }

void gearbox_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}
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
static void gearbox_interrupt_prepare(void);
int gearbox_forward_signal(int signo, int fd) {
    gearbox_interrupt_prepare();
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

// The exit guard: one interrupt per process, so process-wide state is the honest shape.
static volatile sig_atomic_t gearbox_interrupt_signal = 0;
static volatile int gearbox_interrupt_deadline_ms = 0;
static sem_t gearbox_interrupt_done;
static pthread_once_t gearbox_interrupt_once = PTHREAD_ONCE_INIT;
static void gearbox_interrupt_at_exit(void) {
    int signo = gearbox_interrupt_signal;
    if (signo == 0) return;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += gearbox_interrupt_deadline_ms / 1000;
    deadline.tv_nsec += (long)(gearbox_interrupt_deadline_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec += 1; deadline.tv_nsec -= 1000000000L; }
    while (sem_timedwait(&gearbox_interrupt_done, &deadline) != 0 && errno == EINTR) {}
    fflush(stdout);
    fflush(stderr);
    _exit(128 + signo);
}
static void gearbox_interrupt_setup(void) {
    sem_init(&gearbox_interrupt_done, 0, 0);
    atexit(gearbox_interrupt_at_exit);
}
void gearbox_interrupt_started(int signo, int deadline_ms) {
    pthread_once(&gearbox_interrupt_once, gearbox_interrupt_setup);
    gearbox_interrupt_deadline_ms = deadline_ms;
    gearbox_interrupt_signal = signo;
}
void gearbox_interrupt_finished(void) {
    pthread_once(&gearbox_interrupt_once, gearbox_interrupt_setup);
    sem_post(&gearbox_interrupt_done);
}
static void gearbox_interrupt_prepare(void) { pthread_once(&gearbox_interrupt_once, gearbox_interrupt_setup); }
