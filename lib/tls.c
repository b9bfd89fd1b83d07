/*
 * OpenSSL contexts for mutual TLS. Both sides require TLS 1.2 or later and
 * verify the other against the one CA the deployment trusts. A peer's
 * identity is the subject CN of its verified certificate and nothing else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "trackfuse/tls.h"

static int tls_fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Last OpenSSL error as text (static buffer); drains the error queue. The
 * first error queued is the root cause (e.g. fopen's errno), so when it
 * differs it follows in parentheses.
 */
const char *
tls_error(void)
{
	static char	buf[512];
	char		first[224], last[224];
	unsigned long	e, e0 = 0, e1 = 0;

	while ((e = ERR_get_error()) != 0) {
		if (e0 == 0)
			e0 = e;
		e1 = e;
	}
	if (e1 == 0)
		return "no OpenSSL error";
	ERR_error_string_n(e1, last, sizeof(last));
	if (e0 == e1)
		snprintf(buf, sizeof(buf), "%s", last);
	else {
		ERR_error_string_n(e0, first, sizeof(first));
		snprintf(buf, sizeof(buf), "%s (%s)", last, first);
	}
	return buf;
}

/* Write "what: OpenSSL reason" into err and return -1. */
static int
tls_fail(char *err, size_t errlen, const char *fmt, ...)
{
	char	what[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, tls_error());
	return -1;
}

/*
 * Settings common to both sides: TLS 1.2 minimum, the CA to verify the
 * peer with, our certificate chain and the key that must match it.
 */
static int
tls_ctx_setup(SSL_CTX *ctx, const char *ca, const char *cert,
    const char *key, char *err, size_t errlen)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		return tls_fail(err, errlen, "tls: cannot require TLS 1.2");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		return tls_fail(err, errlen, "tls: CA file %s", ca);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return tls_fail(err, errlen, "tls: certificate file %s", cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return tls_fail(err, errlen, "tls: key file %s", key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(err, errlen, "tls: key file %s does not match "
		    "certificate %s", key, cert);
	return 0;
}

/* Build a context of method m with the common settings; NULL on failure. */
static SSL_CTX *
tls_ctx_new(const SSL_METHOD *m, const char *ca, const char *cert,
    const char *key, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	ERR_clear_error();
	if (ca == NULL || cert == NULL || key == NULL) {
		snprintf(err, errlen, "tls: ca, cert and key are all required");
		return NULL;
	}
	if ((ctx = SSL_CTX_new(m)) == NULL) {
		tls_fail(err, errlen, "tls: SSL_CTX_new");
		return NULL;
	}
	if (tls_ctx_setup(ctx, ca, cert, key, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Server context: requires and verifies a client certificate against ca. */
SSL_CTX *
tls_server_ctx(const char *ca, const char *cert, const char *key, char *err,
    size_t errlen)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;

	if ((ctx = tls_ctx_new(TLS_server_method(), ca, cert, key, err,
	    errlen)) == NULL)
		return NULL;
	/* Tell clients which CA we accept, so they pick the right cert. */
	if ((names = SSL_load_client_CA_file(ca)) != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	ERR_clear_error();
	return ctx;
}

/* Client context: presents cert/key, verifies the server against ca. */
SSL_CTX *
tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_ctx_new(TLS_client_method(), ca, cert, key, err,
	    errlen)) == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* 1 if host is an IPv4 or IPv6 address literal. */
static int
tls_is_ip(const char *host)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

/*
 * New client SSL on ctx that verifies the server's certificate names host:
 * an IP literal must be in the certificate's IP SANs, a DNS name must match
 * its DNS SANs (and is sent as SNI). NULL on failure.
 */
SSL *
tls_client_ssl(SSL_CTX *ctx, const char *host)
{
	SSL	*ssl;

	if (host == NULL || host[0] == '\0' || (ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if (tls_is_ip(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) != 1)
			goto fail;
	} else {
		if (SSL_set1_host(ssl, host) != 1 ||
		    SSL_set_tlsext_host_name(ssl, host) != 1)
			goto fail;
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return ssl;
 fail:
	SSL_free(ssl);
	return NULL;
}

/*
 * Copy the verified peer certificate's subject CN (as UTF-8) into buf.
 * Refuses an unverified chain, a missing certificate, no CN or more than
 * one, a CN with an embedded NUL or one that does not fit.
 */
int
tls_peer_cn(SSL *ssl, char *buf, size_t len)
{
	X509		*x;
	X509_NAME	*name;
	ASN1_STRING	*s;
	unsigned char	*u = NULL;
	int		 i, n, rc = -1;

	if (len == 0 || SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	if ((x = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	name = X509_get_subject_name(x);
	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		goto done;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	if ((n = ASN1_STRING_to_UTF8(&u, s)) < 0)
		goto done;
	if (n == 0 || (size_t)n >= len || memchr(u, '\0', (size_t)n) != NULL)
		goto done;
	memcpy(buf, u, (size_t)n);
	buf[n] = '\0';
	rc = 0;
 done:
	OPENSSL_free(u);
	X509_free(x);
	return rc;
}
