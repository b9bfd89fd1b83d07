/* HOST:PORT strings and their resolution, shared by every client. */
#ifndef TRACKFUSE_ADDR_H
#define TRACKFUSE_ADDR_H

#include <stddef.h>

#include <sys/socket.h>

/* addr.c */
/*
 * Split "HOST:PORT" or "[V6]:PORT" into host and port (a decimal number in
 * 1..65535). -1 when it is malformed or a part does not fit.
 */
int	addr_split(const char *, char *, size_t, char *, size_t);
/*
 * Resolve host and port to a stream socket address, IPv4 first (the
 * daemon listens on IPv4 loopback by default). -1 with a reason in err.
 */
int	addr_resolve(const char *, const char *, struct sockaddr_storage *,
	    socklen_t *, char *, size_t);

#endif
