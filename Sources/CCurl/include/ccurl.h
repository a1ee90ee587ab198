#ifndef TASK_CCURL_H
#define TASK_CCURL_H

#include <curl/curl.h>

/* libcurl is loaded on first use (dlopen of libcurl.so.4), not linked: a command that never
 * talks HTTP does not pay for loading libcurl and the two dozen libraries it pulls in.
 * Every call below goes through that loaded library. */

/* Loads libcurl and runs curl_global_init once; 0 on success, -1 when libcurl is missing. */
int ccurl_load(void);
/* Why loading failed (dlerror text), or NULL. */
const char *ccurl_load_error(void);

CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *h);
CURLcode ccurl_easy_perform(CURL *h);
const char *ccurl_easy_strerror(CURLcode code);
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *s);
void ccurl_slist_free_all(struct curl_slist *list);

/* Typed, non-variadic wrappers around libcurl's variadic calls. */
CURLcode ccurl_setopt_long(CURL *h, CURLoption opt, long value);
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption opt, void *value);
CURLcode ccurl_setopt_str(CURL *h, CURLoption opt, const char *value);
CURLcode ccurl_setopt_off(CURL *h, CURLoption opt, curl_off_t value);
CURLcode ccurl_setopt_write_fn(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode ccurl_setopt_header_fn(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode ccurl_setopt_read_fn(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode ccurl_setopt_xferinfo_fn(CURL *h, int (*fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t));
CURLcode ccurl_getinfo_long(CURL *h, CURLINFO info, long *out);

#endif
