#ifndef TASK_CCURL_H
#define TASK_CCURL_H

#include <curl/curl.h>

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
