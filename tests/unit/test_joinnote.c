/* Unit tests: the join bundle (protocol/joinnote). The log's fields file with its refusals;
 * the text written and read back; a note signed by the log opens, and these do not: another
 * key's signature, one changed byte, a log-vkey line naming another key, the log's own
 * checkpoint (a checkpoint is not a join note), a join note read as a checkpoint of the log. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "protocol/joinnote.h"

#define S(s) OV_BYTES(s, strlen(s))

static struct ov_note_signer *
signer(const char *name, uint8_t type)
{
    struct ov_sign_key *k = NULL;
    struct ov_note_signer *s = NULL;
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_note_signer_new(S(name), type, k, &s), 0);
    return s;
}

static void
vkey_of(const struct ov_note_signer *s, char out[OV_NOTE_MAX_VKEY_LEN + 1])
{
    struct ov_buf b;
    ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
    CHECK_EQ_INT(ov_note_vkey_format(ov_note_signer_verifier(s), &b), 0);
    snprintf(out, OV_NOTE_MAX_VKEY_LEN + 1, "%.*s", (int)b.len, (const char *)b.ptr);
    ov_buf_clear(&b);
}

static int
fields(const char *text, struct ov_join *j, size_t *line)
{
    const char *why;
    return ov_join_fields_parse(S(text), j, line, &why);
}

/* The signed note of j's text by s, into out (initialised here). */
static void
sign(const struct ov_join *j, const struct ov_note_signer *s, struct ov_buf *out)
{
    struct ov_buf text;
    CHECK_EQ_INT(ov_join_text(j, &text), 0);
    const struct ov_note_signer *ss[] = { s };
    CHECK_EQ_INT(ov_note_sign(ov_buf_view(&text), ss, 1, out), 0);
    ov_buf_clear(&text);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    struct ov_note_signer *log = signer("log.example/a", OV_NOTE_TYPE_ED25519);
    struct ov_note_signer *other = signer("log.example/a", OV_NOTE_TYPE_ED25519);
    struct ov_note_signer *w1 = signer("w1.example", OV_NOTE_TYPE_COSIG_V1);
    struct ov_note_signer *w2 = signer("w2.example", OV_NOTE_TYPE_COSIG_V1);
    char log_vk[OV_NOTE_MAX_VKEY_LEN + 1], other_vk[OV_NOTE_MAX_VKEY_LEN + 1];
    char w1_vk[OV_NOTE_MAX_VKEY_LEN + 1], w2_vk[OV_NOTE_MAX_VKEY_LEN + 1];
    vkey_of(log, log_vk);
    vkey_of(other, other_vk);
    vkey_of(w1, w1_vk);
    vkey_of(w2, w2_vk);
    struct ov_join j, back;
    size_t line;
    const char *why;

    /* the operator's file: any order, "key value" or "key = value", comments, CRLF */
    CHECK_EQ_INT(fields("# the assembly\r\nverifier = https://v.example\r\n\n"
                        "name Citizens' Assembly on Water, 2027\nlog https://log.example\n"
                        "issuer=https://i.example:8443/base\n  web https://log.example/web/  \n",
                        &j, &line), 0);
    CHECK(strcmp(j.name, "Citizens' Assembly on Water, 2027") == 0);
    CHECK(strcmp(j.issuer, "https://i.example:8443/base") == 0);
    CHECK(strcmp(j.verifier, "https://v.example") == 0);
    CHECK(strcmp(j.web, "https://log.example/web/") == 0);
    CHECK(j.relay[0] == '\0');
    /* its refusals name the line */
    CHECK_EQ_INT(fields("log https://l\nissuer https://i\nverifier https://v\nquorum 1\n", &j,
                        &line), -OV_E_MALFORMED);
    CHECK_EQ_INT(line, 4); /* the log fills quorum, witnesses and its key */
    CHECK_EQ_INT(fields("log https://l\nlog https://l\n", &j, &line), -OV_E_MALFORMED);
    CHECK_EQ_INT(line, 2);
    CHECK_EQ_INT(fields("log ftp://l\n", &j, &line), -OV_E_MALFORMED);
    CHECK_EQ_INT(line, 1);
    CHECK_EQ_INT(fields("log https://l/?q=1\n", &j, &line), -OV_E_MALFORMED);
    CHECK_EQ_INT(fields("log https://l\nissuer https://i\n", &j, &line), -OV_E_MALFORMED);
    CHECK_EQ_INT(line, 0); /* verifier missing */
    CHECK_EQ_INT(fields("name \x01x\nlog https://l\nissuer https://i\nverifier https://v\n", &j,
                        &line), -OV_E_MALFORMED);
    CHECK_EQ_INT(line, 1);

    /* the text, complete, reads back to the same fields */
    CHECK_EQ_INT(fields("name N\nlog https://log.example\nissuer https://i.example\n"
                        "verifier https://v.example\nrelay https://r.example\n", &j, &line), 0);
    snprintf(j.log_vkey, sizeof j.log_vkey, "%s", log_vk);
    snprintf(j.witnesses[0], sizeof j.witnesses[0], "%s", w1_vk);
    snprintf(j.witnesses[1], sizeof j.witnesses[1], "%s", w2_vk);
    j.n_witnesses = 2;
    j.quorum = 1;
    struct ov_buf text;
    CHECK_EQ_INT(ov_join_text(&j, &text), 0);
    char want[4096];
    snprintf(want, sizeof want, "onevoice/v1/join\nname N\nlog https://log.example\n"
             "log-vkey %s\nwitness %s\nwitness %s\nquorum 1\nissuer https://i.example\n"
             "verifier https://v.example\nrelay https://r.example\n", log_vk, w1_vk, w2_vk);
    CHECK(text.len == strlen(want) && memcmp(text.ptr, want, text.len) == 0);
    CHECK_EQ_INT(ov_join_text_parse(ov_buf_view(&text), &back, &why), 0);
    CHECK(strcmp(back.witnesses[1], w2_vk) == 0 && back.quorum == 1 && back.n_witnesses == 2);
    ov_buf_clear(&text);
    /* fields that break the rules are not written */
    struct ov_join bad = j;
    bad.quorum = 3;
    CHECK_EQ_INT(ov_join_text(&bad, &text), -OV_E_MALFORMED);
    bad = j;
    snprintf(bad.witnesses[1], sizeof bad.witnesses[1], "%s", log_vk);
    CHECK_EQ_INT(ov_join_text(&bad, &text), -OV_E_MALFORMED);
    bad = j;
    snprintf(bad.witnesses[1], sizeof bad.witnesses[1], "%s", w1_vk);
    CHECK_EQ_INT(ov_join_text(&bad, &text), -OV_E_MALFORMED); /* twice */

    /* reading: unknown keys skipped, known keys in order, required ones present */
    char t[4096];
    snprintf(t, sizeof t, "onevoice/v1/join\nlog https://l\nlog-vkey %s\nfuture-key x y\n"
             "quorum 0\nissuer https://i\nverifier https://v\n", log_vk);
    CHECK_EQ_INT(ov_join_text_parse(S(t), &back, &why), 0);
    CHECK(back.n_witnesses == 0 && back.quorum == 0);
    snprintf(t, sizeof t, "onevoice/v1/join\nlog-vkey %s\nlog https://l\nquorum 0\n"
             "issuer https://i\nverifier https://v\n", log_vk);
    CHECK_EQ_INT(ov_join_text_parse(S(t), &back, &why), -OV_E_MALFORMED); /* out of order */
    snprintf(t, sizeof t, "onevoice/v1/join\nlog https://l\nlog-vkey %s\nquorum 0\n"
             "issuer https://i\n", log_vk);
    CHECK_EQ_INT(ov_join_text_parse(S(t), &back, &why), -OV_E_MALFORMED); /* no verifier */
    snprintf(t, sizeof t, "onevoice/v1/joins\nlog https://l\nlog-vkey %s\nquorum 0\n"
             "issuer https://i\nverifier https://v\n", log_vk);
    CHECK_EQ_INT(ov_join_text_parse(S(t), &back, &why), -OV_E_MALFORMED); /* first line */
    CHECK_EQ_INT(ov_join_text_parse(S("onevoice/v1/join\nlog\n"), &back, &why), -OV_E_MALFORMED);

    /* the signed note: opens with the log's key only */
    const struct ov_note_verifier *lv = ov_note_signer_verifier(log);
    struct ov_buf note;
    sign(&j, log, &note);
    CHECK_EQ_INT(ov_join_open(ov_buf_view(&note), lv, &back, &why), 0);
    CHECK(strcmp(back.relay, "https://r.example") == 0 && strcmp(back.name, "N") == 0);
    CHECK_EQ_INT(ov_join_open(ov_buf_view(&note), ov_note_signer_verifier(other), &back, &why),
                 -OV_E_UNKNOWN_KEY); /* same name, another key: another key id */
    CHECK(back.log[0] == '\0');
    /* one byte of the text changed */
    uint8_t *p = memmem(note.ptr, note.len, "https://v.example", 17);
    CHECK(p != NULL);
    p[8] = 'w';
    CHECK_EQ_INT(ov_join_open(ov_buf_view(&note), lv, &back, &why), -OV_E_BAD_SIG);
    ov_buf_clear(&note);
    /* signed by the log, but naming another log key */
    bad = j;
    snprintf(bad.log_vkey, sizeof bad.log_vkey, "%s", other_vk);
    sign(&bad, log, &note);
    CHECK_EQ_INT(ov_join_open(ov_buf_view(&note), lv, &back, &why), -OV_E_MALFORMED);
    CHECK(strstr(why, "log-vkey") != NULL);
    ov_buf_clear(&note);
    /* a checkpoint of the log is not a join note, nor a join note a checkpoint of it */
    struct ov_checkpoint c = { .origin = S("log.example/a"), .size = 1 };
    struct ov_buf cp;
    CHECK_EQ_INT(ov_checkpoint_format(&c, &text), 0);
    const struct ov_note_signer *ss[] = { log };
    CHECK_EQ_INT(ov_note_sign(ov_buf_view(&text), ss, 1, &cp), 0);
    CHECK_EQ_INT(ov_join_open(ov_buf_view(&cp), lv, &back, &why), -OV_E_MALFORMED);
    ov_buf_clear(&cp);
    ov_buf_clear(&text);
    sign(&j, log, &note);
    struct ov_note n;
    struct ov_checkpoint parsed;
    CHECK_EQ_INT(ov_note_parse(ov_buf_view(&note), &n), 0);
    CHECK(ov_checkpoint_parse(n.text, &parsed) != 0 ||
          !(parsed.origin.len == 13 && memcmp(parsed.origin.ptr, "log.example/a", 13) == 0));
    ov_buf_clear(&note);
    /* garbage */
    CHECK_EQ_INT(ov_join_open(S("hello"), lv, &back, &why), -OV_E_MALFORMED);

    ov_note_signer_free(log);
    ov_note_signer_free(other);
    ov_note_signer_free(w1);
    ov_note_signer_free(w2);
    TEST_DONE("test_joinnote");
}
