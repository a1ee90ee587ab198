#include "lineedit.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

struct le_editor {
    EditLine *el;
    History *hist;
    HistEvent ev;
    FILE *in, *out, *err;
    int in_fd, out_fd;
    int wake_r, wake_w;
    char *prompt;
    void *ctx;
    le_drain_fn drain;
    le_complete_fn complete;
    mbstate_t mb;
};

static volatile sig_atomic_t le_sigint_flag = 0;

static void le_on_sigint(int sig) {
    (void)sig;
    le_sigint_flag = 1;
}

void le_install_sigint(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = le_on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() must see EINTR */
    sigaction(SIGINT, &sa, NULL);
}

int le_take_sigint(void) {
    int was = le_sigint_flag;
    le_sigint_flag = 0;
    return was;
}

void le_setup_locale(void) {
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    if (cs == NULL || strcmp(cs, "UTF-8") != 0) {
        if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) setlocale(LC_CTYPE, "en_US.UTF-8");
    }
}

static char *le_prompt_fn(EditLine *el) {
    le_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    return ed && ed->prompt ? ed->prompt : "";
}

int le_columns(le_editor *ed) {
    struct winsize ws;
    if (ioctl(ed->out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

/* Visible width of the prompt: skips \001-delimited escape runs, counts UTF-8 lead bytes. */
static int le_prompt_width(const char *p) {
    int w = 0, in_esc = 0;
    for (; p && *p; p++) {
        if (*p == '\001') { in_esc = !in_esc; continue; }
        if (in_esc) continue;
        if (((unsigned char)*p & 0xC0) != 0x80) w++;
    }
    return w;
}

/* Moves the cursor to the first row of the edit area and clears from there down. */
static void le_clear_edit_area(le_editor *ed) {
    const LineInfoW *li = el_wline(ed->el);
    int cols = le_columns(ed);
    int before = le_prompt_width(ed->prompt) + (int)(li->cursor - li->buffer);
    int rows_up = cols > 0 ? before / cols : 0;
    char seq[32];
    fflush(ed->out);
    if (rows_up > 0) {
        int n = snprintf(seq, sizeof seq, "\033[%dA", rows_up);
        (void)!write(ed->out_fd, seq, (size_t)n);
    }
    (void)!write(ed->out_fd, "\r\033[J", 4);
}

static int le_getc_fn(EditLine *el, wchar_t *wc) {
    le_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    for (;;) {
        struct pollfd fds[2];
        fds[0].fd = ed->in_fd; fds[0].events = POLLIN; fds[0].revents = 0;
        fds[1].fd = ed->wake_r; fds[1].events = POLLIN; fds[1].revents = 0;
        int r = poll(fds, 2, -1);
        if (r < 0) {
            if (errno == EINTR) { errno = EINTR; return -1; }
            return -1;
        }
        if (fds[1].revents & POLLIN) {
            char buf[256];
            while (read(ed->wake_r, buf, sizeof buf) > 0) {}
            if (ed->drain) {
                le_clear_edit_area(ed);
                ed->drain(ed->ctx);
                fflush(ed->out);
                el_set(el, EL_REFRESH);
            }
            if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            for (;;) {
                char c;
                ssize_t n = read(ed->in_fd, &c, 1);
                if (n == 0) return 0;
                if (n < 0) {
                    if (errno == EINTR) return -1;
                    return -1;
                }
                size_t k = mbrtowc(wc, &c, 1, &ed->mb);
                if (k == (size_t)-2) continue;          /* incomplete sequence: read more */
                if (k == (size_t)-1) {                  /* invalid byte: pass it through */
                    memset(&ed->mb, 0, sizeof ed->mb);
                    *wc = (wchar_t)(unsigned char)c;
                }
                return 1;
            }
        }
    }
}

static unsigned char le_complete_trampoline(EditLine *el, int ch) {
    (void)ch;
    le_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    if (!ed || !ed->complete) return CC_ERROR;
    const LineInfo *li = el_line(el);
    size_t len = (size_t)(li->cursor - li->buffer);
    char *text = malloc(len + 1);
    if (!text) return CC_ERROR;
    memcpy(text, li->buffer, len);
    text[len] = 0;
    int r = ed->complete(ed->ctx, ed, text);
    free(text);
    switch (r) {
    case LE_CC_REFRESH: return CC_REFRESH;
    case LE_CC_REDISPLAY: return CC_REDISPLAY;
    case LE_CC_REFRESH_BEEP: return CC_REFRESH_BEEP;
    default: return CC_NORM;
    }
}

le_editor *le_create(const char *prog, int in_fd, int out_fd) {
    le_editor *ed = calloc(1, sizeof *ed);
    if (!ed) return NULL;
    int p[2];
    if (pipe(p) != 0) { free(ed); return NULL; }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    ed->wake_r = p[0];
    ed->wake_w = p[1];
    ed->in_fd = in_fd;
    ed->out_fd = out_fd;
    ed->in = fdopen(fcntl(in_fd, F_DUPFD_CLOEXEC, 0), "r");
    ed->out = fdopen(fcntl(out_fd, F_DUPFD_CLOEXEC, 0), "w");
    ed->err = stderr;
    ed->prompt = strdup("> ");
    ed->el = el_init_fd(prog, ed->in, ed->out, ed->err, in_fd, out_fd, STDERR_FILENO);
    if (!ed->el) { free(ed); return NULL; }
    ed->hist = history_init();
    history(ed->hist, &ed->ev, H_SETSIZE, 2000);
    history(ed->hist, &ed->ev, H_SETUNIQUE, 1);
    el_set(ed->el, EL_CLIENTDATA, ed);
    el_set(ed->el, EL_EDITOR, "emacs");
    el_set(ed->el, EL_SIGNAL, 1);
    el_set(ed->el, EL_PROMPT_ESC, le_prompt_fn, '\001');
    el_set(ed->el, EL_HIST, history, ed->hist);
    el_set(ed->el, EL_GETCFN, le_getc_fn);
    el_set(ed->el, EL_ADDFN, "task-complete", "complete a command, flag or id", le_complete_trampoline);
    el_set(ed->el, EL_BIND, "^I", "task-complete", NULL);
    el_set(ed->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
    return ed;
}

void le_destroy(le_editor *ed) {
    if (!ed) return;
    el_end(ed->el);
    history_end(ed->hist);
    close(ed->wake_r);
    close(ed->wake_w);
    if (ed->in) fclose(ed->in);
    if (ed->out) fclose(ed->out);
    free(ed->prompt);
    free(ed);
}

void le_set_prompt(le_editor *ed, const char *prompt) {
    free(ed->prompt);
    ed->prompt = strdup(prompt ? prompt : "");
}

void le_set_callbacks(le_editor *ed, void *ctx, le_drain_fn drain, le_complete_fn complete) {
    ed->ctx = ctx;
    ed->drain = drain;
    ed->complete = complete;
}

int le_wake_fd(le_editor *ed) { return ed->wake_w; }

const char *le_gets(le_editor *ed, int *status) {
    int count = 0;
    errno = 0;
    memset(&ed->mb, 0, sizeof ed->mb);
    const char *line = el_gets(ed->el, &count);
    if (line) { *status = 0; return line; }
    if (count == 0 && errno != EINTR) { *status = 0; return NULL; }
    if (errno == EINTR || le_sigint_flag) { *status = 1; return NULL; }
    *status = 2;
    return NULL;
}

void le_history_add(le_editor *ed, const char *line) {
    history(ed->hist, &ed->ev, H_ENTER, line);
}

void le_history_clear(le_editor *ed) {
    history(ed->hist, &ed->ev, H_CLEAR);
}

void le_insert(le_editor *ed, const char *text) {
    el_insertstr(ed->el, text);
}

void le_source_editrc(le_editor *ed) {
    el_source(ed->el, NULL);
}
