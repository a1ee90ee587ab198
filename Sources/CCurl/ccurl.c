#include "ccurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
} lib;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded = -1;
static const char *load_error = NULL;

#define RESOLVE(field, name) \
    do { *(void **)(&lib.field) = dlsym(h, name); if (!lib.field) { load_error = "libcurl lacks " name; return; } } while (0)

static void load(void) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) { load_error = dlerror(); return; }
    RESOLVE(global_init, "curl_global_init");
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_perform, "curl_easy_perform");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    if (lib.global_init(CURL_GLOBAL_ALL) != CURLE_OK) { load_error = "curl_global_init failed"; return; }
    loaded = 0;
}

int ccurl_load(void) {
    pthread_once(&once, load);
    return loaded;
}

const char *ccurl_load_error(void) { return load_error; }

CURL *ccurl_easy_init(void) { return ccurl_load() == 0 ? lib.easy_init() : NULL; }
void ccurl_easy_cleanup(CURL *h) { lib.easy_cleanup(h); }
CURLcode ccurl_easy_perform(CURL *h) { return lib.easy_perform(h); }
const char *ccurl_easy_strerror(CURLcode code) { return ccurl_load() == 0 ? lib.easy_strerror(code) : "libcurl not loaded"; }
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *s) { return lib.slist_append(list, s); }
void ccurl_slist_free_all(struct curl_slist *list) { if (list) lib.slist_free_all(list); }

CURLcode ccurl_setopt_long(CURL *h, CURLoption opt, long value) { return lib.easy_setopt(h, opt, value); }
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption opt, void *value) { return lib.easy_setopt(h, opt, value); }
CURLcode ccurl_setopt_str(CURL *h, CURLoption opt, const char *value) { return lib.easy_setopt(h, opt, value); }
CURLcode ccurl_setopt_off(CURL *h, CURLoption opt, curl_off_t value) { return lib.easy_setopt(h, opt, value); }
CURLcode ccurl_setopt_write_fn(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) { return lib.easy_setopt(h, CURLOPT_WRITEFUNCTION, fn); }
CURLcode ccurl_setopt_header_fn(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) { return lib.easy_setopt(h, CURLOPT_HEADERFUNCTION, fn); }
CURLcode ccurl_setopt_read_fn(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) { return lib.easy_setopt(h, CURLOPT_READFUNCTION, fn); }
CURLcode ccurl_setopt_xferinfo_fn(CURL *h, int (*fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) { return lib.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fn); }
CURLcode ccurl_getinfo_long(CURL *h, CURLINFO info, long *out) { return lib.easy_getinfo(h, info, out); }
