/* Unit tests: connections per address (infra/peers): the limit, exemptions by prefix in
 * both families, IPv4 seen through an IPv6 socket, the exemption list's grammar. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "infra/peers.h"

static struct ov_peer
v4(const char *text)
{
    struct sockaddr_in s = {.sin_family = AF_INET};
    CHECK(inet_pton(AF_INET, text, &s.sin_addr) == 1);
    return ov_peer_of((const struct sockaddr *)&s, sizeof s);
}

static struct ov_peer
v6(const char *text)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6};
    CHECK(inet_pton(AF_INET6, text, &s.sin6_addr) == 1);
    return ov_peer_of((const struct sockaddr *)&s, sizeof s);
}

static void
test_limit(void)
{
    struct ov_peers *p;
    CHECK_EQ_INT(ov_peers_new(3, NULL, &p), 0);
    struct ov_peer a = v4("10.0.0.1"), b = v4("10.0.0.2");
    for (int i = 0; i < 3; i++) {
        CHECK(ov_peers_admit(p, &a));
        CHECK_EQ_INT(ov_peers_open(p, &a), 0);
    }
    CHECK(!ov_peers_admit(p, &a)); /* the 4th from a */
    CHECK(ov_peers_admit(p, &b));  /* another address is not held to a's count */
    CHECK_EQ_INT((int)ov_peers_count(p, &a), 3);
    ov_peers_close(p, &a);
    CHECK(ov_peers_admit(p, &a));
    ov_peers_close(p, &a);
    ov_peers_close(p, &a);
    CHECK_EQ_INT((int)ov_peers_count(p, &a), 0);
    ov_peers_close(p, &a); /* a close without its open changes nothing */
    CHECK_EQ_INT((int)ov_peers_count(p, &a), 0);
    /* the same IPv4 address through a dual-stack socket is the same peer */
    struct ov_peer m = v6("::ffff:10.0.0.2");
    CHECK_EQ_INT(ov_peers_open(p, &b), 0);
    CHECK_EQ_INT((int)ov_peers_count(p, &m), 1);
    ov_peers_close(p, &m);
    CHECK_EQ_INT((int)ov_peers_count(p, &b), 0);
    /* take: the check and the count at once (what accept uses) */
    struct ov_peer t = v4("10.0.0.9");
    CHECK(ov_peers_take(p, &t) && ov_peers_take(p, &t) && ov_peers_take(p, &t));
    CHECK(!ov_peers_take(p, &t));
    CHECK_EQ_INT((int)ov_peers_count(p, &t), 3);
    ov_peers_close(p, &t);
    CHECK(ov_peers_take(p, &t));
    CHECK(!ov_peers_take(p, &t));
    /* many addresses at once: all counted apart */
    char text[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(text, sizeof text, "10.1.%d.%d", i / 256, i % 256);
        struct ov_peer x = v4(text);
        CHECK_EQ_INT(ov_peers_open(p, &x), 0);
    }
    for (int i = 0; i < 5000; i += 499) {
        snprintf(text, sizeof text, "10.1.%d.%d", i / 256, i % 256);
        struct ov_peer x = v4(text);
        CHECK_EQ_INT((int)ov_peers_count(p, &x), 1);
    }
    /* not IP: neither counted nor limited */
    struct sockaddr un = {.sa_family = AF_UNIX};
    struct ov_peer u = ov_peer_of(&un, sizeof un);
    CHECK(!u.ok && ov_peers_admit(p, &u));
    CHECK(!ov_peer_of(NULL, 0).ok);
    struct sockaddr_in short4 = {.sin_family = AF_INET};
    CHECK(!ov_peer_of((const struct sockaddr *)&short4, 4).ok);
    ov_peers_free(p);
}

static void
test_exempt(void)
{
    struct ov_peers *p;
    CHECK_EQ_INT(ov_peers_new(1, "192.0.2.7,198.51.100.0/25,2001:db8::/33,10.0.0.0/7", &p), 0);
    static const char *const free4[] = {"192.0.2.7", "198.51.100.0", "198.51.100.127",
                                        "10.0.0.1", "11.255.255.255"};
    static const char *const held4[] = {"192.0.2.8", "198.51.100.128", "12.0.0.0",
                                        "9.255.255.255"};
    for (size_t i = 0; i < sizeof free4 / sizeof free4[0]; i++) {
        struct ov_peer x = v4(free4[i]);
        CHECK_EQ_INT(ov_peers_open(p, &x), 0);
        CHECK_EQ_INT(ov_peers_open(p, &x), 0);
        CHECK(ov_peers_admit(p, &x)); /* exempt: past the limit of 1 */
    }
    for (size_t i = 0; i < sizeof held4 / sizeof held4[0]; i++) {
        struct ov_peer x = v4(held4[i]);
        CHECK(ov_peers_admit(p, &x));
        CHECK_EQ_INT(ov_peers_open(p, &x), 0);
        CHECK(!ov_peers_admit(p, &x));
    }
    struct ov_peer in6 = v6("2001:db8:7fff::1"), out6 = v6("2001:db8:8000::1");
    CHECK_EQ_INT(ov_peers_open(p, &in6), 0);
    CHECK_EQ_INT(ov_peers_open(p, &out6), 0);
    CHECK(ov_peers_admit(p, &in6));
    CHECK(!ov_peers_admit(p, &out6));
    for (int i = 0; i < 10; i++) {
        CHECK(ov_peers_take(p, &in6)); /* exempt: never held */
    }
    CHECK(!ov_peers_take(p, &out6));
    ov_peers_free(p);
    /* ::/0 and 0.0.0.0/0: everything, or every IPv4 address */
    CHECK_EQ_INT(ov_peers_new(1, "0.0.0.0/0", &p), 0);
    struct ov_peer a = v4("203.0.113.9"), c = v6("2001:db8::9");
    CHECK_EQ_INT(ov_peers_open(p, &a), 0);
    CHECK_EQ_INT(ov_peers_open(p, &c), 0);
    CHECK(ov_peers_admit(p, &a));
    CHECK(!ov_peers_admit(p, &c));
    ov_peers_free(p);
}

static void
test_grammar(void)
{
    static const char *const good[] = {"",        "127.0.0.1",    "::1",        "10.0.0.0/8",
                                       "::/0",    "0.0.0.0/0",    "fe80::/10",  "1.2.3.4/32",
                                       "::1/128", "1.1.1.1,::2", "10.0.0.0/24,10.0.1.0/24"};
    static const char *const bad[] = {"x",         "1.2.3.4/33",  "::1/129",   "1.2.3.4/",
                                      "/8",        "1.2.3.4/08",  "1.2.3.4/-1", "1.2.3.4,",
                                      ",1.2.3.4",  "1.2.3.4,,::1", "1.2.3",     "1.2.3.4 ",
                                      "fe80::1%lo", "localhost",   "1.2.3.4/+8", "01.2.3.4"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ_INT(ov_peers_check(good[i]), 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(ov_peers_check(bad[i]), -OV_E_MALFORMED);
    }
    char many[512] = "1.1.1.1";
    for (int i = 1; i < OV_PEERS_MAX_EXEMPT; i++) {
        strcat(many, ",1.1.1.1");
    }
    CHECK_EQ_INT(ov_peers_check(many), 0);
    strcat(many, ",1.1.1.1");
    CHECK_EQ_INT(ov_peers_check(many), -OV_E_TOO_BIG);
    struct ov_peers *p = NULL;
    CHECK_EQ_INT(ov_peers_new(1, "nope", &p), -OV_E_MALFORMED);
    CHECK(p == NULL);
    CHECK_EQ_INT(ov_peers_new(0, NULL, &p), -OV_E_MALFORMED);
}

int
main(void)
{
    test_limit();
    test_exempt();
    test_grammar();
    TEST_DONE("test_peers");
}
