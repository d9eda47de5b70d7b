/*
 * A stand-in for the wedged Go 1.14.1 service of the live test: an HTTP server on 127.0.0.1:PORT
 * answering 200 to every request until SIGUSR1; then it stops answering and spins in stacks that
 * carry the Go runtime's frame names as in golang/go#38023 (morestack -> newstack -> gopreempt_m
 * -> goschedImpl -> schedule -> checkTimers -> adjusttimers -> osyield), until SIGTERM.
 * Built with -O1 -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls so that perf's
 * frame-pointer walk sees every frame; each function can return, so no call is a tail call.
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Go build info as the Go 1.18+ linker lays it out (strings inline): the collector reads go1.14.1. */
__attribute__((section(".go.buildinfo"), aligned(16), used))
const unsigned char go_buildinfo[48] = {
    0xff, ' ', 'G', 'o', ' ', 'b', 'u', 'i', 'l', 'd', 'i', 'n', 'f', ':', 8, 2,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    8, 'g', 'o', '1', '.', '1', '4', '.', '1', 0};

static volatile sig_atomic_t wedged;
static volatile sig_atomic_t stopping;
static volatile long spins;

__attribute__((noinline)) static void count_spin(void) { spins++; }

void osyield(void) __asm__("runtime.osyield");
void adjusttimers(void) __asm__("runtime.adjusttimers");
void checkTimers(void) __asm__("runtime.checkTimers");
void schedule(void) __asm__("runtime.schedule");
void goschedImpl(void) __asm__("runtime.goschedImpl");
void gopreempt_m(void) __asm__("runtime.gopreempt_m");
void newstack(void) __asm__("runtime.newstack");
void morestack(void) __asm__("runtime.morestack");

/* the system call made right here, as Go's assembly does: through libc's sched_yield, which keeps
   no frame pointer, perf's frame-pointer walk would skip this frame */
void osyield(void) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "0"((long) SYS_sched_yield) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = SYS_sched_yield;
  register long x0 __asm__("x0");
  __asm__ volatile("svc 0" : "=r"(x0) : "r"(x8) : "memory");
#else
  sched_yield();
#endif
  count_spin(); /* a call keeps this a non-leaf function, which GCC gives a frame pointer */
}
/* the timer heap never settles: the loop ends only with the process */
void adjusttimers(void) { while (!stopping) { osyield(); } spins++; }
void checkTimers(void) { adjusttimers(); spins++; }
void schedule(void) { checkTimers(); spins++; }
void goschedImpl(void) { schedule(); spins++; }
void gopreempt_m(void) { goschedImpl(); spins++; }
void newstack(void) { gopreempt_m(); spins++; }
void morestack(void) { newstack(); spins++; }

static void on_signal(int sig) {
  if (sig == SIGUSR1) wedged = 1; else stopping = 1;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: accept returns EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int server = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short) atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(server, (struct sockaddr *) &addr, sizeof addr) != 0 || listen(server, 128) != 0) {
    perror("bind/listen");
    return 1;
  }
  static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
  char request[8192];
  while (!stopping && !wedged) {
    int client = accept(server, NULL, NULL);
    if (client < 0) continue;
    size_t got = 0;
    while (got < sizeof request - 1) {
      ssize_t n = read(client, request + got, sizeof request - 1 - got);
      if (n <= 0) break;
      got += (size_t) n;
      request[got] = 0;
      if (strstr(request, "\r\n\r\n")) break;
    }
    if (write(client, answer, sizeof answer - 1) < 0) { /* the caller left */ }
    close(client);
  }
  if (wedged && !stopping) {
    morestack(); /* connections pile up in the listen backlog, unanswered */
  }
  close(server);
  return 0;
}
