/* onevoice-admin: the operator's command for the issuer's admin endpoints (docs/PROTOCOL.md
 * §7): contexts with dates people write ("2027-03-01 09:00 +08:00", "+2h"), invitation codes
 * into a file of mode 0600, and the contexts listed with their dates. It replaces curl with
 * POSIX times and a bearer on the command line: the credential is read from a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/codec.h"
#include "base/when.h"
#include "infra/cli.h"
#include "infra/httpc.h"
#include "protocol/entry.h"
#include "protocol/issuerapi.h"
#include "protocol/issuerclient.h"

#define PROG "onevoice-admin"
#define CRED_MAX 256      /* the issuer's secrets are 43 characters of base64url */
#define CRED_FILE_MAX 4096

static const char usage_text[] =
    "usage: onevoice-admin --issuer URL [--credential FILE] [options] COMMAND ...\n"
    "\n"
    "The operator's command for an onevoice issuer: creates contexts (an assembly, a rating\n"
    "round, a statement round) with dates as people write them, makes invitation codes into\n"
    "a file only its owner can read, and lists the contexts with their dates.\n"
    "`onevoice-admin COMMAND --help` describes each command.\n"
    "\n"
    "options (before the command):\n"
    "  --issuer URL             the issuer's URL (required)\n"
    "  --credential FILE        the admin bearer credential (context, invites): a file of\n"
    "                           mode 0600 or 0400 holding it alone, or the \"admin ...\" line\n"
    "                           that onevoice-issuer --print-credentials prints\n"
    "  --ca FILE                trust the CA certificates in this PEM file for https://\n"
    "                           instead of the system's store\n"
    "  --json                   answers as JSON\n"
    "  --version                print the program's name and version and exit\n"
    "  --help                   this text\n"
    "\n"
    "commands:\n"
    "  context                  create a context: an assembly, a rating or a statement round\n"
    "  invites                  make one-time invitation codes into a new file of mode 0600\n"
    "  contexts                 list the issuer's contexts with their dates\n"
    "\n"
    "Dates (WHEN): `now`, `@SECONDS` (POSIX), `+DURATION` (+90m, +2h, +1d12h: from now, or\n"
    "for --closes from the opening), or `YYYY-MM-DD[ HH:MM[:SS]][ ZONE]` with ZONE `Z`, `UTC`\n"
    "or `+08:00`; without a zone, this machine's local time (TZ). The dates are printed\n"
    "back in local time and UTC.\n"
    "\n"
    "Exit status: 0 done, 1 refused by the issuer or unreachable, 2 usage.\n";

static const char context_help[] =
    "usage: onevoice-admin [options] context ID --title TEXT --closes WHEN KIND [options]\n"
    "\n"
    "Creates the context ID (1 to 64 of [a-z0-9-]) at the issuer, which draws its token key\n"
    "and answers once the log holds the context's entry. KIND is --choice (an assembly),\n"
    "--scale (a rating round), or --agreement or --helpfulness (a statement round).\n"
    "\n"
    "options:\n"
    "  --title TEXT             the question or topic, 1 to 256 bytes (required)\n"
    "  --opens WHEN             when it opens (default now)\n"
    "  --closes WHEN            when it closes (required); +DURATION counts from the opening\n"
    "  --quota N                tokens per person, 1 to 1000000 (default 1)\n"
    "  --choice LABEL           one of an assembly's choices (repeated: 2 to 64)\n"
    "  --scale MIN,MAX          a rating round's scale of integers\n"
    "  --agreement              a statement round rated agree, pass, disagree (1, 0, -1)\n"
    "  --helpfulness            a statement round rated helpful, somewhat, not (2, 1, 0)\n"
    "  --statements N           statements each participant may write, 1 to 64 (default 1)\n"
    "  --help                   this text\n";

static const char invites_help[] =
    "usage: onevoice-admin [options] invites COUNT --out FILE [--draw ID]\n"
    "\n"
    "Makes COUNT (1 to 100000) one-time invitation codes and writes them, as the issuer's CSV,\n"
    "to FILE, created with mode 0600 and never overwritten. The issuer keeps only their\n"
    "keyed hashes: this file is the only copy.\n"
    "\n"
    "options:\n"
    "  --out FILE               the new file for the codes (required; - for standard output)\n"
    "  --draw ID                the codes are a sortition draw's panel and reserves\n"
    "  --help                   this text\n";

static const char contexts_help[] =
    "usage: onevoice-admin --issuer URL contexts\n"
    "\n"
    "Lists the issuer's contexts: id, kind, open or not, quota, log index, title, and the\n"
    "window in local time and UTC. Needs no credential.\n"
    "\n"
    "options:\n"
    "  --help                   this text\n";

static bool json_out;

/* "onevoice-admin: WHAT[ ARG] (see --help)"; exit status 2. */
static int
usage_error(const char *what, const char *arg)
{
    fprintf(stderr, PROG ": %s%s%s (see --help)\n", what, arg ? " " : "", arg ? arg : "");
    return 2;
}

/* Text from the issuer, printed for a person: control characters become '?'. */
static void
print_clean(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

static int
refused(struct ov_issuerclient *c, const struct ov_issuer_status *st, const char *what)
{
    if (st->status == 0) {
        fprintf(stderr, PROG ": %s: the issuer did not answer: ", what);
        print_clean(stderr, ov_issuerclient_errmsg(c));
        fputc('\n', stderr);
    } else {
        fprintf(stderr, PROG ": %s: refused by the issuer: %s (HTTP %u)%s", what, st->reason,
                st->status, st->message[0] ? ": " : "");
        print_clean(stderr, st->message);
        fputc('\n', stderr);
    }
    return 1;
}

/* ---- the credential file ------------------------------------------------------------ */

static bool
base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* Reads the admin credential from path: a regular file of this user's, mode 0600 or 0400,
 * holding the credential alone on a line or as "admin CREDENTIAL". */
static int
load_credential(const char *path, char cred[CRED_MAX + 1])
{
    char buf[CRED_FILE_MAX + 1];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, PROG ": --credential %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return 2;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        fprintf(stderr, PROG ": --credential %s: refusing a secret that is not a regular file "
                        "of this user's with mode 0600 or 0400 (chmod 600 %s)\n", path, path);
        close(fd);
        return 2;
    }
    ssize_t n = read(fd, buf, CRED_FILE_MAX);
    close(fd);
    int rc = 2;
    if (n > 0) {
        buf[n] = '\0';
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line != NULL && rc != 0;
             line = strtok_r(NULL, "\n", &save)) {
            if (strncmp(line, "registrar ", 10) == 0 || line[0] == '#') {
                continue;
            }
            const char *v = strncmp(line, "admin ", 6) == 0 ? line + 6 : line;
            size_t len = strcspn(v, " \t\r");
            bool ok = len > 0 && len <= CRED_MAX && v[len] == '\0' ? true : false;
            for (size_t i = 0; ok && i < len; i++) {
                ok = base64url_char(v[i]);
            }
            if (ok) {
                memcpy(cred, v, len);
                cred[len] = '\0';
                rc = 0;
            }
        }
    }
    sodium_memzero(buf, sizeof buf);
    if (rc != 0) {
        fprintf(stderr, PROG ": --credential %s: no credential in it (a line with the "
                        "credential, or \"admin CREDENTIAL\")\n", path);
    }
    return rc;
}

/* ---- dates ------------------------------------------------------------------------- */

static void
print_when(const char *label, uint64_t t)
{
    char local[OV_WHEN_FORMAT_LEN], utc[OV_WHEN_FORMAT_LEN];
    ov_when_format(t, 0, local, sizeof local);
    ov_when_format(t, 1, utc, sizeof utc);
    printf("  %-7s %s (%s, @%llu)\n", label, local, utc, (unsigned long long)t);
}

static int
parse_u64_arg(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    if (v == NULL || ov_parse_u64(v, strlen(v), out) != 0 || *out < min || *out > max) {
        fprintf(stderr, PROG ": %s: a number from %llu to %llu (see --help)\n", name,
                (unsigned long long)min, (unsigned long long)max);
        return 2;
    }
    return 0;
}

static int
parse_scale(const char *v, int64_t *min, int64_t *max)
{
    long long a, b;
    char extra;
    if (v == NULL || sscanf(v, "%lld,%lld%c", &a, &b, &extra) != 2 || a >= b ||
        a < -(1ll << 31) || b > (1ll << 31)) {
        return usage_error("--scale: MIN,MAX, two integers with MIN < MAX, each within ±2^31",
                           NULL);
    }
    *min = a;
    *max = b;
    return 0;
}

/* ---- context ----------------------------------------------------------------------- */

/* The value after argv[*i] for option name, or NULL (said on stderr). */
static const char *
value_of(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        usage_error("a value is needed after", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int
cmd_context(struct ov_issuerclient *c, const char *cred, int argc, char **argv)
{
    struct ov_context def;
    memset(&def, 0, sizeof def);
    const char *title = NULL, *opens = "now", *closes = NULL, *scale = NULL;
    const char *quota = "1", *statements = NULL, *id = NULL;
    enum ov_rating_kind kind = OV_RATING_SCALE;
    int kinds = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        bool takes = strcmp(a, "--title") == 0 || strcmp(a, "--opens") == 0 ||
                     strcmp(a, "--closes") == 0 || strcmp(a, "--scale") == 0 ||
                     strcmp(a, "--quota") == 0 || strcmp(a, "--statements") == 0 ||
                     strcmp(a, "--choice") == 0;
        if (takes && (v = value_of(argc, argv, &i)) == NULL) {
            return 2;
        }
        if (strcmp(a, "--title") == 0) {
            title = v;
        } else if (strcmp(a, "--opens") == 0) {
            opens = v;
        } else if (strcmp(a, "--closes") == 0) {
            closes = v;
        } else if (strcmp(a, "--scale") == 0) {
            scale = v;
        } else if (strcmp(a, "--quota") == 0) {
            quota = v;
        } else if (strcmp(a, "--statements") == 0) {
            statements = v;
        } else if (strcmp(a, "--choice") == 0) {
            if (def.n_choices == OV_MAX_CHOICES || strlen(v) > OV_MAX_LABEL_LEN || v[0] == '\0') {
                return usage_error("--choice: at most 64 choices of 1 to 128 bytes", NULL);
            }
            snprintf(def.choices[def.n_choices++], OV_MAX_LABEL_LEN + 1, "%s", v);
        } else if (strcmp(a, "--agreement") == 0 || strcmp(a, "--helpfulness") == 0) {
            kind = a[2] == 'a' ? OV_RATING_AGREEMENT : OV_RATING_HELPFULNESS;
            kinds++;
        } else if (a[0] == '-') {
            return usage_error("context: unknown option", a);
        } else if (id == NULL) {
            id = a;
        } else {
            return usage_error("context: one ID only, not also", a);
        }
    }
    kinds += (def.n_choices > 0) + (scale != NULL);
    if (id == NULL || title == NULL || closes == NULL) {
        return usage_error("context needs ID, --title and --closes", NULL);
    }
    if (kinds != 1) {
        return usage_error("context: say what it is with one of --choice (repeated), --scale, "
                           "--agreement or --helpfulness", NULL);
    }
    if (def.n_choices == 1) {
        return usage_error("context: an assembly offers 2 to 64 choices (--choice each)", NULL);
    }
    if (statements != NULL && kind == OV_RATING_SCALE) {
        return usage_error("--statements goes with --agreement or --helpfulness", NULL);
    }
    if (ov_context_id_check(id) != 0 || strlen(title) == 0 || strlen(title) > OV_MAX_TITLE_LEN) {
        return usage_error("context: ID is 1 to 64 of [a-z0-9-], not starting with '-', and "
                           "the title 1 to 256 bytes", NULL);
    }
    snprintf(def.id, sizeof def.id, "%s", id);
    snprintf(def.title, sizeof def.title, "%s", title);
    uint64_t now = ov_now_ms() / 1000;
    if (ov_when_parse(opens, now, now, &def.opens) != 0) {
        return usage_error("--opens: not a date:", opens);
    }
    if (ov_when_parse(closes, now, def.opens, &def.closes) != 0) {
        return usage_error("--closes: not a date:", closes);
    }
    if (def.closes <= def.opens || def.closes <= now) {
        fprintf(stderr, PROG ": context: it must close after it opens and after now\n");
        print_when("opens", def.opens);
        print_when("closes", def.closes);
        return 2;
    }
    int rc = parse_u64_arg("--quota", quota, 1, 1000000, &def.quota);
    if (def.n_choices > 0) {
        def.type = OV_CONTEXT_ASSEMBLY;
    } else {
        def.type = OV_CONTEXT_RATING;
        def.rating_kind = kind;
        if (kind == OV_RATING_SCALE) {
            rc = rc ? rc : parse_scale(scale, &def.scale_min, &def.scale_max);
        } else {
            def.scale_min = kind == OV_RATING_AGREEMENT ? -1 : 0;
            def.scale_max = kind == OV_RATING_AGREEMENT ? 1 : 2;
            rc = rc ? rc : parse_u64_arg("--statements", statements ? statements : "1", 1,
                                         OV_MAX_STATEMENT_QUOTA, &def.statements);
        }
    }
    if (rc != 0) {
        return rc;
    }
    struct ov_issuer_context out;
    struct ov_issuer_status st;
    if (ov_issuerclient_create_context(c, cred, &def, &out, &st) != 0) {
        return refused(c, &st, "context");
    }
    if (json_out) {
        struct ov_buf j;
        ov_buf_init(&j, 1u << 24);
        if (ov_issuer_context_json(&out, &j) != 0) {
            ov_buf_clear(&j);
            fprintf(stderr, PROG ": context %s was created, but its JSON could not be "
                            "written (out of memory)\n", out.def.id);
            return 1;
        }
        printf("%.*s\n", (int)j.len, (const char *)j.ptr);
        ov_buf_clear(&j);
        return 0;
    }
    printf("context %s created; the log holds it at index %llu\n", out.def.id,
           (unsigned long long)out.log_index);
    print_when("opens", out.def.opens);
    print_when("closes", out.def.closes);
    return 0;
}

/* ---- invites ----------------------------------------------------------------------- */

static int
cmd_invites(struct ov_issuerclient *c, const char *cred, int argc, char **argv)
{
    const char *count_arg = NULL, *out = NULL, *draw = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 || strcmp(argv[i], "--draw") == 0) {
            const char *v = value_of(argc, argv, &i);
            if (v == NULL) {
                return 2;
            }
            *(argv[i - 1][2] == 'o' ? &out : &draw) = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage_error("invites: unknown option", argv[i]);
        } else if (count_arg == NULL) {
            count_arg = argv[i];
        } else {
            return usage_error("invites: one COUNT only, not also", argv[i]);
        }
    }
    uint64_t count;
    if (count_arg == NULL || out == NULL) {
        return usage_error("invites needs COUNT and --out FILE", NULL);
    }
    int rc = parse_u64_arg("COUNT", count_arg, 1, 100000, &count);
    if (rc != 0) {
        return rc;
    }
    if (draw != NULL && ov_context_id_check(draw) != 0) {
        return usage_error("--draw: not a draw id (1 to 64 of [a-z0-9-]):", draw);
    }
    /* the file first: codes the issuer made and nobody could store would be lost */
    int fd = strcmp(out, "-") == 0
                 ? STDOUT_FILENO
                 : open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, PROG ": --out %s: %s%s\n", out, strerror(errno),
                errno == EEXIST ? " (never overwritten: codes in it may be unused)" : "");
        return 2;
    }
    struct ov_buf csv;
    struct ov_issuer_status st;
    rc = ov_issuerclient_invites(c, cred, (size_t)count, draw, &csv, &st);
    if (rc != 0) {
        if (fd != STDOUT_FILENO) {
            close(fd);
            unlink(out);
        }
        return refused(c, &st, "invites");
    }
    size_t off = 0;
    while (off < csv.len) {
        ssize_t w = write(fd, csv.ptr + off, csv.len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    bool ok = off == csv.len && (fd == STDOUT_FILENO || fsync(fd) == 0);
    sodium_memzero(csv.ptr, csv.len);
    ov_buf_clear(&csv);
    if (fd != STDOUT_FILENO && close(fd) != 0) {
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, PROG ": --out %s: writing the codes failed: %s; the issuer made them, "
                        "so they are lost: make others\n", out, strerror(errno));
        return 1;
    }
    if (fd != STDOUT_FILENO) {
        if (json_out) {
            printf("{\"count\":%llu,\"file\":", (unsigned long long)count);
            json_t *s = json_string(out);
            json_dumpf(s, stdout, JSON_ENCODE_ANY);
            json_decref(s);
            printf("}\n");
        } else {
            printf("%llu invitation codes%s%s written to %s (mode 0600; the only copy)\n",
                   (unsigned long long)count, draw ? " for the draw " : "", draw ? draw : "", out);
        }
    }
    return 0;
}

/* ---- contexts ---------------------------------------------------------------------- */

static int
cmd_contexts(struct ov_issuerclient *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        return usage_error("contexts takes no argument", NULL);
    }
    struct ov_issuer_context *list = NULL;
    size_t n = 0;
    struct ov_issuer_status st;
    if (ov_issuerclient_contexts(c, &list, &n, &st) != 0) {
        return refused(c, &st, "contexts");
    }
    int rc = 0;
    if (json_out) {
        struct ov_buf j;
        ov_buf_init(&j, 1u << 24);
        rc = ov_buf_append(&j, "[", 1);
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = i > 0 ? ov_buf_append(&j, ",", 1) : 0;
            rc = rc ? rc : ov_issuer_context_json(&list[i], &j);
        }
        rc = rc ? rc : ov_buf_append(&j, "]", 1);
        if (rc == 0) {
            printf("%.*s\n", (int)j.len, (const char *)j.ptr);
        }
        ov_buf_clear(&j);
    } else {
        if (n == 0) {
            printf("no contexts yet\n");
        }
        for (size_t i = 0; i < n; i++) {
            const struct ov_context *d = &list[i].def;
            const char *what = d->type == OV_CONTEXT_ASSEMBLY ? "assembly"
                               : d->rating_kind == OV_RATING_AGREEMENT ? "statement round (agreement)"
                               : d->rating_kind == OV_RATING_HELPFULNESS ? "statement round (helpfulness)"
                                                                         : "rating round";
            printf("%s: %s, %s, quota %llu, log index %llu\n  ", d->id, what,
                   list[i].open ? "open" : "not open", (unsigned long long)d->quota,
                   (unsigned long long)list[i].log_index);
            print_clean(stdout, d->title);
            printf("\n");
            print_when("opens", d->opens);
            print_when("closes", d->closes);
        }
    }
    free(list);
    return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    const char *issuer = NULL, *cred_file = NULL, *ca = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            ov_cli_print_version(stdout, PROG);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            json_out = true;
            continue;
        }
        const char **slot = strcmp(a, "--issuer") == 0       ? &issuer
                            : strcmp(a, "--credential") == 0 ? &cred_file
                            : strcmp(a, "--ca") == 0         ? &ca
                                                             : NULL;
        if (slot == NULL) {
            return usage_error("unknown option", a);
        }
        const char *v = value_of(argc, argv, &i);
        if (v == NULL) {
            return 2;
        }
        *slot = v;
    }
    if (i == argc) {
        return usage_error("no command: context, invites or contexts", NULL);
    }
    const char *cmd = argv[i++];
    bool needs_cred = strcmp(cmd, "context") == 0 || strcmp(cmd, "invites") == 0;
    if (!needs_cred && strcmp(cmd, "contexts") != 0) {
        return usage_error("unknown command", cmd);
    }
    for (int k = i; k < argc; k++) {
        if (strcmp(argv[k], "--help") == 0) {
            fputs(cmd[0] == 'i' ? invites_help : strcmp(cmd, "context") == 0 ? context_help
                                                                            : contexts_help,
                  stdout);
            return 0;
        }
    }
    if (issuer == NULL) {
        return usage_error("--issuer URL is required", NULL);
    }
    if (needs_cred && cred_file == NULL) {
        return usage_error("--credential FILE is needed for", cmd);
    }
    if (sodium_init() < 0 || (ca != NULL && ov_httpc_set_ca_file(ca) != 0)) {
        return 2;
    }
    char cred[CRED_MAX + 1] = "";
    if (needs_cred) {
        int rc = load_credential(cred_file, cred);
        if (rc != 0) {
            return rc;
        }
    }
    struct ov_issuerclient *c = NULL;
    if (ov_issuerclient_new(issuer, &c) != 0) {
        sodium_memzero(cred, sizeof cred);
        return usage_error("--issuer: not a usable URL:", issuer);
    }
    int rc = strcmp(cmd, "context") == 0   ? cmd_context(c, cred, argc - i, argv + i)
             : strcmp(cmd, "invites") == 0 ? cmd_invites(c, cred, argc - i, argv + i)
                                           : cmd_contexts(c, argc - i, argv + i);
    sodium_memzero(cred, sizeof cred);
    ov_issuerclient_free(c);
    return rc;
}
