#include "wallet.h"
int cmd_vote(struct wallet *w, int argc, char **argv) { (void)w; (void)argc; (void)argv; return 1; }
int cmd_rate(struct wallet *w, int argc, char **argv) { (void)w; (void)argc; (void)argv; return 1; }
int cmd_receipts(struct wallet *w, int argc, char **argv) { (void)w; (void)argc; (void)argv; return 1; }
