/*
 * HOST:PORT parsing and resolution for the clients (simulator, command
 * center, test peer) and the daemon's uplinks: one rule for all of them.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackfuse/addr.h"

/* 1 if s is a decimal port number in 1..65535. */
static int
addr_port_valid(const char *s)
{
	char		*end;
	unsigned long	 v;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	v = strtoul(s, &end, 10);
	return *end == '\0' && v >= 1 && v <= 65535;
}

/* Split "HOST:PORT" or "[V6]:PORT"; -1 when malformed or too long. */
int
addr_split(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char	*colon;
	size_t		 hl;

	if ((colon = strrchr(s, ':')) == NULL || !addr_port_valid(colon + 1) ||
	    strlen(colon + 1) >= portlen)
		return -1;
	hl = (size_t)(colon - s);
	if (hl > 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

/* Resolve to a stream socket address, IPv4 preferred; -1 with a reason. */
int
addr_resolve(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	struct addrinfo	hints, *res, *ai;
	int		error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s:%s: %s", host, port,
		    gai_strerror(error));
		return -1;
	}
	for (ai = res; ai != NULL && ai->ai_family != AF_INET; ai = ai->ai_next)
		;
	if (ai == NULL)
		ai = res;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
