/* Arguments and output: each command's options and positional arguments, --help, and
 * answers for people (stdout) or as JSON (--json). Arguments are bounded like any input. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infra/cli.h"
#include "wallet.h"

void
w_usage(FILE *f, const struct w_cmd *cmd, const struct w_opt *opts, size_t n_opts)
{
    fprintf(f, "usage: onevoice [--wallet FILE] %s%s%s [options]\n\n%s\n", cmd->name,
            cmd->args[0] ? " " : "", cmd->args, cmd->summary);
    if (n_opts > 0) {
        fprintf(f, "\noptions:\n");
    }
    for (size_t i = 0; i < n_opts; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        fprintf(f, "  %-24s %s\n", left, opts[i].help);
    }
    fprintf(f, "  %-24s %s\n", "--help", "this text");
}

static int
usage_error(const struct w_cmd *cmd, const struct w_opt *opts, size_t n_opts, const char *what,
            const char *arg)
{
    fprintf(stderr, "onevoice %s: %s%s%s\n\n", cmd->name, what, arg ? " " : "", arg ? arg : "");
    w_usage(stderr, cmd, opts, n_opts);
    return -1;
}

/* The option named by arg ("--name" or "--name=value"); *inline_value set for the latter. */
static const struct w_opt *
find_opt(const struct w_opt *opts, size_t n_opts, const char *arg, const char **inline_value)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    *inline_value = eq ? eq + 1 : NULL;
    for (size_t i = 0; i < n_opts; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

int
w_args(int argc, char **argv, const struct w_cmd *cmd, const struct w_opt *opts, size_t n_opts,
       const char **pos)
{
    return w_args_opt(argc, argv, cmd, opts, n_opts, pos, 0);
}

int
w_args_opt(int argc, char **argv, const struct w_cmd *cmd, const struct w_opt *opts,
           size_t n_opts, const char **pos, size_t n_opt)
{
    size_t n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            w_usage(stdout, cmd, opts, n_opts);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strnlen(a, OV_CLI_MAX_ARG_LEN + 1) > OV_CLI_MAX_ARG_LEN) {
            return usage_error(cmd, opts, n_opts, "argument too long", NULL);
        }
        /* "-1" is a rating (an agreement round's disagree), not an option */
        if (a[0] != '-' || a[1] == 0 || (a[1] >= '0' && a[1] <= '9') || strcmp(a, "--") == 0) {
            if (strcmp(a, "--") == 0) {
                i++;
                for (; i < argc && n_pos < cmd->n_pos + n_opt; i++) {
                    pos[n_pos++] = argv[i];
                }
                if (i < argc) {
                    return usage_error(cmd, opts, n_opts, "unexpected argument", argv[i]);
                }
                break;
            }
            if (n_pos == cmd->n_pos + n_opt) {
                return usage_error(cmd, opts, n_opts, "unexpected argument", a);
            }
            pos[n_pos++] = a;
            continue;
        }
        const char *v = NULL;
        const struct w_opt *o = find_opt(opts, n_opts, a, &v);
        if (o == NULL) {
            return usage_error(cmd, opts, n_opts, "unknown option", a);
        }
        if (o->metavar == NULL) {
            if (v != NULL) {
                return usage_error(cmd, opts, n_opts, "this option takes no value:", a);
            }
            *o->flag = true;
            continue;
        }
        if (v == NULL) {
            if (i + 1 >= argc) {
                return usage_error(cmd, opts, n_opts, "missing value for", a);
            }
            v = argv[++i];
        }
        if (strnlen(v, OV_CLI_MAX_ARG_LEN + 1) > OV_CLI_MAX_ARG_LEN) {
            return usage_error(cmd, opts, n_opts, "value too long for", o->name);
        }
        if (o->list != NULL) {
            if (*o->n_list == W_MAX_ARGS) {
                return usage_error(cmd, opts, n_opts, "too many of", o->name);
            }
            o->list[(*o->n_list)++] = v;
        } else {
            if (*o->value != NULL) {
                return usage_error(cmd, opts, n_opts, "given twice:", o->name);
            }
            *o->value = v;
        }
    }
    if (n_pos < cmd->n_pos) {
        return usage_error(cmd, opts, n_opts, "missing arguments:", cmd->args);
    }
    return 0;
}

void
w_say(const struct wallet *w, const char *fmt, ...)
{
    (void)w;
    va_list ap;
    va_start(ap, fmt);
    fputs("onevoice: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void
w_fail(struct wallet *w, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "onevoice: %s\n", msg);
    if (strcmp(code, "stale_request") == 0) { /* the cure is this computer's clock */
        w_clock_hint(w, strstr(msg, "verifier") != NULL ? w->verifier : w->issuer,
                     strstr(msg, "verifier") != NULL ? "verifier" : "issuer");
    }
    if (w->json) {
        if (w->out == NULL) {
            w->out = json_object();
        }
        if (w->out != NULL && json_object_get(w->out, "error") == NULL) {
            json_object_set_new(w->out, "error", json_string(code));
            json_object_set_new(w->out, "message", json_string(msg));
        }
    }
}

void
w_finish(struct wallet *w)
{
    if (w->json && w->out != NULL) {
        char *s = json_dumps(w->out, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (s != NULL) {
            puts(s);
            free(s);
        }
    }
    json_decref(w->out);
    w->out = NULL;
    fflush(stdout);
}

const char *
w_strerror(int rc)
{
    switch (rc < 0 ? -rc : rc) {
    case OV_E_HTTP:
        return "no answer, or a refusal";
    case OV_E_MALFORMED:
    case OV_E_TRUNCATED:
    case OV_E_TRAILING:
    case OV_E_NONCANONICAL:
        return "a malformed answer";
    case OV_E_TOO_BIG:
        return "an answer over its size limit";
    case OV_E_BAD_SIG:
        return "a signature that does not verify";
    case OV_E_BAD_PROOF:
        return "a proof that does not verify";
    case OV_E_STATE:
        return "too few witness cosignatures";
    case OV_E_DB:
    case OV_E_DB_BUSY:
        return "the wallet file could not be updated";
    default:
        return ov_strerror(rc < 0 ? rc : -rc);
    }
}

uint64_t
w_now(void)
{
    return (uint64_t)time(NULL);
}
