/* OpenSSL contexts for mutual TLS, shared by the daemon, simulators and tools. */
#ifndef TRACKFUSE_TLS_H
#define TRACKFUSE_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* tls.c */
/*
 * Server context: requires and verifies a client certificate against ca.
 * Returns NULL with a reason in err on failure.
 */
SSL_CTX	*tls_server_ctx(const char *ca, const char *cert, const char *key,
	    char *err, size_t errlen);
/* Client context: presents cert/key, verifies the server against ca. */
SSL_CTX	*tls_client_ctx(const char *ca, const char *cert, const char *key,
	    char *err, size_t errlen);
/*
 * New client SSL on ctx that verifies the server's certificate names host
 * (an IP address literal or a DNS name). NULL on failure.
 */
SSL	*tls_client_ssl(SSL_CTX *, const char *host);
/* Copy the verified peer certificate's subject CN; -1 if none/unverified. */
int	 tls_peer_cn(SSL *, char *, size_t);
/* Last OpenSSL error as text (static buffer). */
const char *tls_error(void);

#endif
