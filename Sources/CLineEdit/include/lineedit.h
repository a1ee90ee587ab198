#ifndef TASK_LINEEDIT_H
#define TASK_LINEEDIT_H

#include <stddef.h>

/// An editor instance: libedit's EditLine and History plus the wake-up pipe used to print
/// above the prompt. Everything here runs on the one thread that calls le_gets.
typedef struct le_editor le_editor;

/// Called on the editor thread when the wake-up pipe fires, after the edit area was cleared.
/// It writes the pending lines to stdout (each ending in "\n"); the editor then repaints.
typedef void (*le_drain_fn)(void *ctx);

/// Called for Tab. `line` is the text before the cursor (UTF-8). Returns one of LE_CC_*.
typedef int (*le_complete_fn)(void *ctx, le_editor *ed, const char *line);

enum {
    LE_CC_REFRESH = 0,       // line changed, refresh it
    LE_CC_REDISPLAY = 1,     // output was printed: redraw prompt and line on a new row
    LE_CC_REFRESH_BEEP = 2,  // nothing to do: beep
    LE_CC_NORM = 3,          // nothing changed
};

le_editor *le_create(const char *prog, int in_fd, int out_fd);
void le_destroy(le_editor *ed);

/// Sets the prompt (copied). Escape sequences must be wrapped in \001 ... \001.
void le_set_prompt(le_editor *ed, const char *prompt);
void le_set_callbacks(le_editor *ed, void *ctx, le_drain_fn drain, le_complete_fn complete);

/// The write end of the wake-up pipe: write one byte to make the editor call drain.
int le_wake_fd(le_editor *ed);

/// Reads one line. Returns NULL on EOF (*status = 0), on Ctrl-C (*status = 1), or on error
/// (*status = 2). The returned buffer is owned by libedit and valid until the next call.
const char *le_gets(le_editor *ed, int *status);

void le_history_add(le_editor *ed, const char *line);
void le_history_clear(le_editor *ed);
void le_insert(le_editor *ed, const char *text);
/// Reads ~/.editrc (or $EDITRC).
void le_source_editrc(le_editor *ed);
/// Columns of the terminal on out_fd (80 when unknown).
int le_columns(le_editor *ed);

/// Installs a SIGINT handler without SA_RESTART that only records the signal.
void le_install_sigint(void);
/// Returns non-zero if SIGINT arrived since the last call, and clears the flag.
int le_take_sigint(void);
/// Makes sure LC_CTYPE is a UTF-8 locale (from the environment, else C.UTF-8).
void le_setup_locale(void);

#endif
