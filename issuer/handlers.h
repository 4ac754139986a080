/* handlers: the issuer's POST endpoints (routes.c lists them all). */
#ifndef ISSUER_HANDLERS_H
#define ISSUER_HANDLERS_H

#include "infra/http.h"

/* h_admin.c */
int issuer_h_create_context(struct ov_req *rq);
int issuer_h_invites(struct ov_req *rq);
/* h_enroll.c */
int issuer_h_registrar_token(struct ov_req *rq);
int issuer_h_enroll(struct ov_req *rq);
/* h_token.c */
int issuer_h_token(struct ov_req *rq);

#endif
