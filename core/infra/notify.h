/* notify: the service manager's readiness protocol (systemd's sd_notify, for Type=notify
 * units; units/), without libsystemd. When $NOTIFY_SOCKET names an AF_UNIX datagram socket
 * (a path, or an abstract name written with a leading '@'), each message is one datagram of
 * newline-separated VAR=VALUE lines: "READY=1" once serving, "RELOADING=1" and then
 * "READY=1" around a reload, "STOPPING=1" when stopping, "STATUS=..." free text for
 * `systemctl status`. Without the variable nothing is sent: a server started by hand or by
 * a test behaves as before. */
#ifndef OV_NOTIFY_H
#define OV_NOTIFY_H

#include "base/err.h"

/* Sends msg to $NOTIFY_SOCKET: 1 when sent, 0 when the variable is unset or empty (nobody
 * listens), -OV_E_MALFORMED for a value that is no AF_UNIX address ("/path" or "@name",
 * shorter than sun_path), -OV_E_IO when the socket or the send failed. */
OV_MUST_CHECK int ov_notify(const char *msg);

#endif
