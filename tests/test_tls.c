/*
 * Unit tests for lib/tls.c: mutual TLS between a real server and client
 * context in one thread over a socketpair, the server name checks, refusal
 * of a foreign CA's client, of a client without a certificate and of TLS
 * below 1.2, bad certificate and key files, and tls_peer_cn's limits.
 * Certificates come from scripts/gen-certs.sh, run once into a fresh
 * directory under the build tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "trackfuse/tls.h"

#ifndef TF_GENCERTS
#error "TF_GENCERTS must name scripts/gen-certs.sh"
#endif
#ifndef TF_TLS_WORK
#error "TF_TLS_WORK must name a work directory under the build tree"
#endif

/* Enough rounds for any handshake here; a stall means a bug, not slowness. */
#define T_ROUNDS	100
/* Rounds the other side gets to read the alert after one side fails. */
#define T_GRACE		4

static char	t_dir[512];
static SSL_CTX	*t_sctx;	/* the daemon: trackfused.pem, verifies clients */
static SSL_CTX	*t_cctx;	/* a valid client: CC-JPN */

/* Where one side's handshake stands. */
enum t_state {
	T_WAIT,
	T_DONE,
	T_FAIL
};

/* One end of a connection and, once it failed, the OpenSSL error text. */
struct t_side {
	SSL		*ssl;
	enum t_state	 st;
	char		 err[512];
};

/* A client and a server SSL joined by a non-blocking socketpair. */
struct t_conn {
	int		 fd[2];
	struct t_side	 c, s;
};

/* Path of name in the cert directory; 4 static slots, as a call takes 3. */
static const char *
t_path(const char *name)
{
	static char	buf[4][640];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", t_dir, name);
	return buf[i];
}

/* nftw callback: remove one entry, children before their directory. */
static int
t_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Run gen-certs.sh into a fresh directory and build the shared contexts. */
static int
t_group_setup(void **state)
{
	char	cmd[2048], err[512];
	int	rc;

	(void)state;
	/* A peer closing mid-handshake must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (mkdir(TF_TLS_WORK, 0700) == -1 && errno != EEXIST) {
		print_error("test_tls: mkdir %s: %s\n", TF_TLS_WORK,
		    strerror(errno));
		return -1;
	}
	snprintf(t_dir, sizeof(t_dir), "%s/run.XXXXXX", TF_TLS_WORK);
	if (mkdtemp(t_dir) == NULL) {
		print_error("test_tls: mkdtemp %s: %s\n", t_dir,
		    strerror(errno));
		return -1;
	}
	if (strchr(TF_GENCERTS, '\'') != NULL || strchr(t_dir, '\'') != NULL) {
		print_error("test_tls: quote in a path: %s %s\n", TF_GENCERTS,
		    t_dir);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "'%s' '%s' CC-JPN >/dev/null",
	    TF_GENCERTS, t_dir);
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
		print_error("test_tls: gen-certs failed (%s %d): %s\n",
		    rc != -1 && WIFEXITED(rc) ? "exit" : "wait status",
		    rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : rc, cmd);
		return -1;
	}
	t_sctx = tls_server_ctx(t_path("ca.pem"), t_path("trackfused.pem"),
	    t_path("trackfused.key"), err, sizeof(err));
	if (t_sctx == NULL) {
		print_error("test_tls: server context: %s\n", err);
		return -1;
	}
	t_cctx = tls_client_ctx(t_path("ca.pem"), t_path("CC-JPN.pem"),
	    t_path("CC-JPN.key"), err, sizeof(err));
	if (t_cctx == NULL) {
		print_error("test_tls: client context: %s\n", err);
		return -1;
	}
	return 0;
}

/* Free the shared contexts and remove the certificate directory. */
static int
t_group_teardown(void **state)
{
	(void)state;
	SSL_CTX_free(t_cctx);
	SSL_CTX_free(t_sctx);
	if (t_dir[0] != '\0')
		nftw(t_dir, t_rm, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/*
 * Client SSL for host on cctx (through tls_client_ssl) and server SSL on
 * sctx, each on one end of a non-blocking AF_UNIX socketpair.
 */
static void
t_conn_init(struct t_conn *k, SSL_CTX *cctx, const char *host, SSL_CTX *sctx)
{
	int	i;

	memset(k, 0, sizeof(*k));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, k->fd), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(fcntl(k->fd[i], F_SETFL, O_NONBLOCK), 0);
	assert_non_null(k->c.ssl = tls_client_ssl(cctx, host));
	assert_non_null(k->s.ssl = SSL_new(sctx));
	assert_int_equal(SSL_set_fd(k->c.ssl, k->fd[0]), 1);
	assert_int_equal(SSL_set_fd(k->s.ssl, k->fd[1]), 1);
	SSL_set_connect_state(k->c.ssl);
	SSL_set_accept_state(k->s.ssl);
}

/* One SSL_do_handshake step on a waiting side; keeps the error on failure. */
static void
t_step(struct t_side *sd)
{
	int	r, e;

	if (sd->st != T_WAIT)
		return;
	ERR_clear_error();
	if ((r = SSL_do_handshake(sd->ssl)) == 1) {
		sd->st = T_DONE;
		return;
	}
	e = SSL_get_error(sd->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	sd->st = T_FAIL;
	snprintf(sd->err, sizeof(sd->err), "%s", tls_error());
}

/*
 * Alternate handshake steps, client first, until both sides are done, or
 * one failed and the other had a few rounds to read the alert.
 */
static void
t_run(struct t_conn *k)
{
	int	i, grace = T_GRACE;

	for (i = 0; i < T_ROUNDS; i++) {
		t_step(&k->c);
		t_step(&k->s);
		if (k->c.st != T_WAIT && k->s.st != T_WAIT)
			break;
		if ((k->c.st == T_FAIL || k->s.st == T_FAIL) && --grace == 0)
			break;
	}
}

/* Free both SSLs and close the socketpair. */
static void
t_conn_free(struct t_conn *k)
{
	SSL_free(k->c.ssl);
	SSL_free(k->s.ssl);
	close(k->fd[0]);
	close(k->fd[1]);
}

/* Run a handshake and return the connection for inspection. */
static void
t_connect(struct t_conn *k, SSL_CTX *cctx, const char *host, SSL_CTX *sctx)
{
	t_conn_init(k, cctx, host, sctx);
	t_run(k);
}

/*
 * A client whose handshake finished before the server refused it (TLS 1.3
 * sends the client certificate last) must see the server's alert on read.
 */
static void
t_client_refused(struct t_conn *k)
{
	char	b;
	int	r;

	if (k->c.st != T_DONE)
		return;
	ERR_clear_error();
	r = SSL_read(k->c.ssl, &b, 1);
	assert_true(r <= 0);
	assert_int_equal(SSL_get_error(k->c.ssl, r), SSL_ERROR_SSL);
	ERR_clear_error();
}

/* Fail unless s contains sub, showing both. */
static void
t_contains(const char *s, const char *sub)
{
	if (strstr(s, sub) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", s, sub);
}

/* Client context limited to at most TLS version max (floor lowered too). */
static SSL_CTX *
t_old_client_ctx(int max)
{
	char	 err[512];
	SSL_CTX	*ctx;

	ctx = tls_client_ctx(t_path("ca.pem"), t_path("CC-JPN.pem"),
	    t_path("CC-JPN.key"), err, sizeof(err));
	assert_non_null(ctx);
	/*
	 * OpenSSL 3 refuses TLS 1.0/1.1 at security level 1 and above on its
	 * own; level 0 makes the client really offer TLS 1.1, so the refusal
	 * seen is the server's floor and not the client's.
	 */
	SSL_CTX_set_security_level(ctx, 0);
	assert_int_equal(SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max), 1);
	return ctx;
}

/* Verify callback that accepts any chain (the result is still recorded). */
static int
t_verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* (1) A valid client connects; each side sees the other's CN. */
static void
test_valid_client(void **state)
{
	struct t_conn	k;
	char		cn[64];

	(void)state;
	t_connect(&k, t_cctx, "127.0.0.1", t_sctx);
	assert_int_equal(k.c.st, T_DONE);
	assert_int_equal(k.s.st, T_DONE);
	assert_true(SSL_version(k.s.ssl) >= TLS1_2_VERSION);
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, sizeof(cn)), 0);
	assert_string_equal(cn, "CC-JPN");
	assert_int_equal(tls_peer_cn(k.c.ssl, cn, sizeof(cn)), 0);
	assert_string_equal(cn, "trackfused");
	t_conn_free(&k);
}

/* (2) The client accepts the server only for names in its SAN. */
static void
test_server_name(void **state)
{
	static const struct {
		const char	*host;
		long		 verr;
		const char	*sni;	/* server name the server receives */
	} tab[] = {
		{ "127.0.0.1", X509_V_OK, NULL },
		{ "localhost", X509_V_OK, "localhost" },
		{ "127.0.0.2", X509_V_ERR_IP_ADDRESS_MISMATCH, NULL },
		{ "::1", X509_V_ERR_IP_ADDRESS_MISMATCH, NULL },
		{ "example.org", X509_V_ERR_HOSTNAME_MISMATCH, NULL },
		{ "trackfused", X509_V_ERR_HOSTNAME_MISMATCH, NULL },
	};
	struct t_conn	 k;
	size_t		 i;
	const char	*sni;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		t_connect(&k, t_cctx, tab[i].host, t_sctx);
		if (tab[i].verr == X509_V_OK) {
			if (k.c.st != T_DONE || k.s.st != T_DONE)
				fail_msg("host %s: refused: %s", tab[i].host,
				    k.c.err);
			/* SNI carries DNS names only, never an IP literal. */
			sni = SSL_get_servername(k.s.ssl,
			    TLSEXT_NAMETYPE_host_name);
			if (tab[i].sni == NULL)
				assert_null(sni);
			else {
				assert_non_null(sni);
				assert_string_equal(sni, tab[i].sni);
			}
		} else {
			if (k.c.st != T_FAIL)
				fail_msg("host %s: accepted", tab[i].host);
			t_contains(k.c.err, "certificate verify failed");
			assert_int_not_equal(k.s.st, T_DONE);
		}
		assert_int_equal(SSL_get_verify_result(k.c.ssl), tab[i].verr);
		t_conn_free(&k);
	}
	assert_null(tls_client_ssl(t_cctx, ""));
	assert_null(tls_client_ssl(t_cctx, NULL));
}

/* (3) A client certificate from another CA is refused and has no CN. */
static void
test_rogue_client(void **state)
{
	struct t_conn	 k;
	SSL_CTX		*ctx;
	char		 cn[64], err[512];

	(void)state;
	ctx = tls_client_ctx(t_path("ca.pem"), t_path("rogue/USA-AEGIS-1.pem"),
	    t_path("rogue/USA-AEGIS-1.key"), err, sizeof(err));
	if (ctx == NULL)
		fail_msg("rogue client context: %s", err);
	t_connect(&k, ctx, "127.0.0.1", t_sctx);
	assert_int_equal(k.s.st, T_FAIL);
	t_contains(k.s.err, "certificate verify failed");
	assert_int_not_equal(SSL_get_verify_result(k.s.ssl), X509_V_OK);
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, sizeof(cn)), -1);
	t_client_refused(&k);
	t_conn_free(&k);

	/*
	 * Even if a caller let an unverified chain through, tls_peer_cn must
	 * not hand out the CN it claims.
	 */
	t_conn_init(&k, ctx, "127.0.0.1", t_sctx);
	SSL_set_verify(k.s.ssl, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, t_verify_any);
	t_run(&k);
	assert_int_equal(k.s.st, T_DONE);
	assert_int_not_equal(SSL_get_verify_result(k.s.ssl), X509_V_OK);
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, sizeof(cn)), -1);
	t_conn_free(&k);
	SSL_CTX_free(ctx);
}

/* (4) A client that presents no certificate is refused. */
static void
test_no_client_cert(void **state)
{
	struct t_conn	 k;
	SSL_CTX		*ctx;
	char		 cn[64];

	(void)state;
	assert_non_null(ctx = SSL_CTX_new(TLS_client_method()));
	assert_int_equal(SSL_CTX_load_verify_locations(ctx, t_path("ca.pem"),
	    NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	t_connect(&k, ctx, "127.0.0.1", t_sctx);
	assert_int_equal(k.s.st, T_FAIL);
	t_contains(k.s.err, "peer did not return a certificate");
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, sizeof(cn)), -1);
	/* The client itself was happy with the server. */
	assert_int_equal(SSL_get_verify_result(k.c.ssl), X509_V_OK);
	t_client_refused(&k);
	t_conn_free(&k);
	SSL_CTX_free(ctx);
}

/* (5) Missing or mismatched files: NULL and an error naming the file. */
static void
test_bad_files(void **state)
{
	static const struct {
		const char	*ca, *cert, *key, *named, *also;
	} tab[] = {
		{ "nope-ca.pem", "trackfused.pem", "trackfused.key",
		    "nope-ca.pem", "CA file" },
		{ "ca.pem", "nope.pem", "trackfused.key", "nope.pem",
		    "No such file" },
		{ "ca.pem", "trackfused.pem", "nope.key", "nope.key",
		    "No such file" },
		{ "ca.pem", "trackfused.pem", "CC-JPN.key", "CC-JPN.key",
		    "key file" },
		{ "ca.pem", "CC-JPN.key", "CC-JPN.key", "CC-JPN.key",
		    "certificate file" },
	};
	SSL_CTX		*(*fn[2])(const char *, const char *, const char *,
			    char *, size_t) = { tls_server_ctx, tls_client_ctx };
	char		 err[1024], named[640];
	size_t		 i, j;
	SSL_CTX		*ctx;

	(void)state;
	for (j = 0; j < 2; j++) {
		for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
			err[0] = '\0';
			ctx = fn[j](t_path(tab[i].ca), t_path(tab[i].cert),
			    t_path(tab[i].key), err, sizeof(err));
			if (ctx != NULL)
				fail_msg("%s ctx: case %zu accepted",
				    j == 0 ? "server" : "client", i);
			snprintf(named, sizeof(named), "%s",
			    t_path(tab[i].named));
			t_contains(err, named);
			t_contains(err, tab[i].also);
		}
		assert_null(fn[j](NULL, t_path("trackfused.pem"),
		    t_path("trackfused.key"), err, sizeof(err)));
		t_contains(err, "required");
	}
	/* Nothing is left on the error queue for the next caller. */
	assert_string_equal(tls_error(), "no OpenSSL error");
}

/* (6) tls_peer_cn refuses a buffer without room for the CN and its NUL. */
static void
test_peer_cn_buffer(void **state)
{
	struct t_conn	k;
	char		cn[8];

	(void)state;
	t_connect(&k, t_cctx, "127.0.0.1", t_sctx);
	assert_int_equal(k.s.st, T_DONE);
	memset(cn, 'x', sizeof(cn));
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, 6), -1);
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, 1), -1);
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, 0), -1);
	assert_memory_equal(cn, "xxxxxx", 6);
	assert_int_equal(tls_peer_cn(k.s.ssl, cn, 7), 0);
	assert_string_equal(cn, "CC-JPN");
	t_conn_free(&k);
}

/* (7) The server refuses a client that offers nothing above TLS 1.1. */
static void
test_version_floor(void **state)
{
	struct t_conn	 k;
	SSL_CTX		*ctx;

	(void)state;
	/* Control: the same weakened client connects when it may use 1.2. */
	ctx = t_old_client_ctx(TLS1_2_VERSION);
	t_connect(&k, ctx, "127.0.0.1", t_sctx);
	assert_int_equal(k.c.st, T_DONE);
	assert_int_equal(k.s.st, T_DONE);
	assert_int_equal(SSL_version(k.s.ssl), TLS1_2_VERSION);
	t_conn_free(&k);
	SSL_CTX_free(ctx);

	ctx = t_old_client_ctx(TLS1_1_VERSION);
	t_connect(&k, ctx, "127.0.0.1", t_sctx);
	assert_int_equal(k.s.st, T_FAIL);
	t_contains(k.s.err, "unsupported protocol");
	assert_int_not_equal(k.c.st, T_DONE);
	t_conn_free(&k);
	SSL_CTX_free(ctx);
}

/* Run every test of this module after generating the certificates once. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_client),
		cmocka_unit_test(test_server_name),
		cmocka_unit_test(test_rogue_client),
		cmocka_unit_test(test_no_client_cert),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_peer_cn_buffer),
		cmocka_unit_test(test_version_floor),
	};

	return cmocka_run_group_tests(tests, t_group_setup, t_group_teardown);
}
