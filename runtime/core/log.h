/* Logging to stderr with a global verbosity (set once by the CLI from -v/-q). */
#ifndef CNV_CORE_LOG_H
#define CNV_CORE_LOG_H

typedef enum { CNV_LOG_ERROR = 0, CNV_LOG_WARN, CNV_LOG_INFO, CNV_LOG_DEBUG } cnv_log_level;

void cnv_log_set_level(cnv_log_level level);
cnv_log_level cnv_log_get_level(void);
void cnv_log(cnv_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define cnv_warn(...) cnv_log(CNV_LOG_WARN, __VA_ARGS__)
#define cnv_info(...) cnv_log(CNV_LOG_INFO, __VA_ARGS__)
#define cnv_debug(...) cnv_log(CNV_LOG_DEBUG, __VA_ARGS__)

#endif
